/*
** repl.c — symlua's interactive loop: libedit line editing and history, tab
** completion of names, continuation lines, values printed, Ctrl-C handling.
*/
#define _GNU_SOURCE  /* ppoll */
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <editline/readline.h>
#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>

#include "symlua.h"
#include "interp.h"

#define PROMPT        "> "
#define PROMPT_MORE   ">> "
#define HISTORY_FILE  ".symlua_history"
#define HISTORY_LINES 1000

/* readline's callbacks get no context: the state being served. */
static lua_State *repl_state;
static int stdin_is_tty;

/* -- Reading lines -------------------------------------------------------- */

static volatile sig_atomic_t line_interrupted;

/* Installed for the whole REPL session (docall swaps in its own while Lua
** runs), so a Ctrl-C between the two never finds the default action. */
static void on_sigint_at_prompt(int sig)
{
  if (sl_interp_forward_signal(sig)) return;
  line_interrupted = 1;
}

/* libedit's callback interface hands the finished line here. */
static char *finished_line;
static int line_finished;

static void on_line(char *line)
{
  finished_line = line;
  line_finished = 1;
}

/* A Ctrl-C normally makes the terminal discard pending input. If libedit
** was about to read() keys that poll had announced, that read would then
** wait, with SIGINT blocked, for keys that never come. libedit's edit mode
** clears NOFLSH, so it is set again once the mode is in place. */
static void keep_input_on_interrupt(void)
{
  struct termios modes;
  if (tcgetattr(STDIN_FILENO, &modes) != 0 || (modes.c_lflag & NOFLSH)) return;
  modes.c_lflag |= NOFLSH;
  tcsetattr(STDIN_FILENO, TCSANOW, &modes);
}

/* Reads a line on the terminal. SIGINT stays blocked except inside ppoll, so
** a Ctrl-C always wakes the wait, wherever libedit was when it came; with
** readline() a signal that came outside its read() was lost. */
static int read_tty_line(const char *prompt, char **line)
{
  sigset_t sigint, old_mask;
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigint, &old_mask);
  line_interrupted = 0;
  line_finished = 0;
  finished_line = NULL;
  rl_callback_handler_install(prompt, on_line);
  keep_input_on_interrupt();
  while (!line_finished) {
    struct pollfd in = { STDIN_FILENO, POLLIN, 0 };
    if (ppoll(&in, 1, NULL, &old_mask) < 0) {
      if (errno == EINTR && !line_interrupted) continue;
      break;  /* Ctrl-C, or stdin is gone */
    }
    if (in.revents & (POLLERR | POLLNVAL)) break;
    rl_callback_read_char();
    if (in.revents & POLLHUP) break;  /* the terminal is gone: no more lines */
  }
  rl_callback_handler_remove();  /* also puts the terminal back as it was */
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  if (line_interrupted) {
    free(finished_line);
    fputs("^C\n", stdout);
    fflush(stdout);
    return 0;
  }
  *line = finished_line;
  if (!line_finished) fputc('\n', stdout);
  return finished_line ? 1 : -1;
}

/* Piped into `symlua -i`: plain lines, no prompts, no editing. */
static int read_plain_line(char **line)
{
  size_t cap = 0;
  *line = NULL;
  ssize_t n = getline(line, &cap, stdin);
  if (n < 0) {
    free(*line);
    *line = NULL;
    return -1;
  }
  if (n > 0 && (*line)[n - 1] == '\n') (*line)[n - 1] = '\0';
  return 1;
}

/* Reads one line into *line (to be freed). Returns 1, 0 after Ctrl-C (the
** line is dropped), or -1 at end of input. */
static int read_line(const char *prompt, char **line)
{
  return stdin_is_tty ? read_tty_line(prompt, line) : read_plain_line(line);
}

/* -- Compiling statements ------------------------------------------------- */

/* A syntax error at the end of the input means the statement is unfinished. */
static int is_incomplete(lua_State *L)
{
  static const char eof[] = "'<eof>'";
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  return msg && len >= sizeof eof - 1 && strcmp(msg + len - (sizeof eof - 1), eof) == 0;
}

enum { LOADED, INCOMPLETE, BAD_SYNTAX };

/* Loads before .. text .. after, where text is at index idx; pushes the
** function or the error message, like luaL_loadbuffer. */
static int load_wrapped(lua_State *L, const char *before, int idx, const char *after)
{
  lua_pushstring(L, before);
  lua_pushvalue(L, idx);
  lua_pushstring(L, after);
  lua_concat(L, 3);
  int status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_objlen(L, -1), "=stdin");
  lua_remove(L, -2);
  return status;
}

/* Compiles the text on top of the stack, first as an expression so that its
** values get printed, then as a statement. LOADED pushes the function,
** BAD_SYNTAX the message, INCOMPLETE nothing. */
static int compile(lua_State *L)
{
  int text = lua_gettop(L), more = 0;
  if (load_wrapped(L, "return ", text, "") == 0) {
    lua_pop(L, 1);
    /* Run the expression as the arguments of an identity function: in
    ** "return f()" the call is a tail call, so an error in f would lose its
    ** line number and the "in main chunk" frame of its traceback. The ")"
    ** goes on a line of its own, after any trailing comment. */
    if (load_wrapped(L, "return (function(...) return ... end)(", text, "\n)") == 0)
      return LOADED;
  } else {
    more = is_incomplete(L);
  }
  lua_pop(L, 1);
  int status = load_wrapped(L, "", text, "");
  if (status == 0) return LOADED;
  if (status == LUA_ERRSYNTAX && (more || is_incomplete(L))) {
    lua_pop(L, 1);
    return INCOMPLETE;
  }
  return BAD_SYNTAX;
}

static int is_blank(const char *s)
{
  return s[strspn(s, " \t\r\n")] == '\0';
}

static void remember(const char *text, const char *history_path)
{
  add_history(text);
  /* Saved at once, so that os.exit() or a crash loses nothing; an unwritable
  ** home just means no history file. */
  if (history_path) write_history(history_path);
}

/* Reads a statement, asking for more lines while it is unfinished. Returns 1
** with its function pushed, 0 when there is nothing to run, -1 at end of input. */
static int read_statement(lua_State *L, const char *history_path)
{
  char *line;
  int r = read_line(PROMPT, &line);
  if (r <= 0) return r;
  if (is_blank(line)) {
    free(line);
    return 0;
  }
  lua_pushstring(L, line);
  free(line);
  for (;;) {
    int status = compile(L);
    if (status == INCOMPLETE) {
      r = read_line(PROMPT_MORE, &line);
      if (r <= 0) {  /* Ctrl-C drops the whole statement */
        lua_pop(L, 1);
        return r;
      }
      lua_pushliteral(L, "\n");
      lua_pushstring(L, line);
      free(line);
      lua_concat(L, 3);
      continue;
    }
    remember(lua_tostring(L, -2), history_path);
    lua_remove(L, -2);
    if (status == BAD_SYNTAX) {
      sl_interp_report(L, LUA_ERRSYNTAX);
      return 0;
    }
    return 1;
  }
}

/* -- Running them --------------------------------------------------------- */

/* print(...), but with the tostring saved at startup: every value, tab-separated. */
static int print_values(lua_State *L)
{
  int n = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, SL_TOSTRING_KEY);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    lua_getglobal(L, "tostring");
  }
  for (int i = 1; i <= n; i++) {
    size_t len;
    lua_pushvalue(L, n + 1);
    lua_pushvalue(L, i);
    lua_call(L, 1, 1);
    const char *s = lua_tolstring(L, -1, &len);
    if (!s) return luaL_error(L, "'tostring' must return a string to be printed");
    if (i > 1) fputc('\t', stdout);
    fwrite(s, 1, len, stdout);
    lua_pop(L, 1);
  }
  fputc('\n', stdout);
  fflush(stdout);
  return 0;
}

/* Runs the function on top of the stack and prints what it returns. */
static void run_statement(lua_State *L)
{
  int base = lua_gettop(L);
  /* Code typed at the prompt runs interpreted: compiled traces never check
  ** the hook that Ctrl-C sets, so a loop typed here could not be stopped.
  ** Functions from files and modules are still compiled as usual. */
  luaJIT_setmode(L, -1, LUAJIT_MODE_ALLFUNC | LUAJIT_MODE_OFF);
  int status = sl_interp_docall(L, 0, LUA_MULTRET);
  if (status == 0 && lua_gettop(L) >= base) {
    lua_pushcfunction(L, print_values);
    lua_insert(L, base);
    status = sl_interp_docall(L, lua_gettop(L) - base, 0);
  }
  sl_interp_report(L, status);
  lua_settop(L, base - 1);
}

/* -- Completion ----------------------------------------------------------- */

static const char *const keywords[] = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
  "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
  NULL
};

static int is_name_char(int c, int first)
{
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (!first && c >= '0' && c <= '9');
}

static int is_name(const char *s, size_t len)
{
  if (len == 0) return 0;
  for (size_t i = 0; i < len; i++)
    if (!is_name_char((unsigned char)s[i], i == 0)) return 0;
  return 1;
}

/* Adds `prefix .. word` to the set at res. */
static void add_candidate(lua_State *L, int res, const char *prefix, size_t plen,
                          const char *word, size_t wlen)
{
  lua_pushlstring(L, prefix, plen);
  lua_pushlstring(L, word, wlen);
  lua_concat(L, 2);
  lua_pushboolean(L, 1);
  lua_rawset(L, res);
}

/* Pushes the tensor methods table if the value at idx is a tensor, else nothing.
** Tensors index through a function, so their methods come from the core module. */
static int push_tensor_methods(lua_State *L, int idx)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
  lua_getfield(L, -1, "symlua.core");
  lua_remove(L, -2);
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "is_tensor");
    if (lua_isfunction(L, -1)) {
      lua_pushvalue(L, idx);
      lua_call(L, 1, 1);
      if (lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        lua_getfield(L, -1, "tensor_methods");
        lua_remove(L, -2);
        if (lua_istable(L, -1)) return 1;
      }
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
}

/* Pushes the next table to look in after the one at idx: the tensor methods,
** or the metatable's __index when that is a table. Metamethods that are
** functions are never called, so completion runs no user code. */
static int push_next_scope(lua_State *L, int idx)
{
  if (push_tensor_methods(L, idx)) return 1;
  if (!lua_getmetatable(L, idx)) return 0;
  lua_pushliteral(L, "__index");
  lua_rawget(L, -2);
  lua_remove(L, -2);
  if (lua_istable(L, -1)) return 1;
  lua_pop(L, 1);
  return 0;
}

#define MAX_SCOPES 8  /* how far __index chains are followed; also stops cycles */

/* Replaces the value below the top with its field named by the string on top;
** returns 0 (and leaves nil) if there is no such field. */
static int get_field(lua_State *L)
{
  int key = lua_gettop(L), obj = key - 1;
  lua_pushvalue(L, obj);
  for (int depth = 0; depth < MAX_SCOPES; depth++) {
    int scope = lua_gettop(L);
    if (lua_istable(L, scope)) {
      lua_pushvalue(L, key);
      lua_rawget(L, scope);
      if (!lua_isnil(L, -1)) {
        lua_replace(L, obj);
        lua_settop(L, obj);
        return 1;
      }
      lua_pop(L, 1);
    }
    if (!push_next_scope(L, scope)) break;
  }
  lua_settop(L, obj);
  lua_pushnil(L);
  lua_replace(L, obj);
  return 0;
}

/* Adds the fields of the value at idx (and of its __index tables) that start
** with part; with methods_only, just the functions (after a ':'). */
static void add_fields(lua_State *L, int res, int idx, const char *prefix, size_t plen,
                       const char *part, size_t partlen, int methods_only)
{
  int top = lua_gettop(L);
  lua_pushvalue(L, idx);
  for (int depth = 0; depth < MAX_SCOPES; depth++) {
    int scope = lua_gettop(L);
    if (lua_istable(L, scope)) {
      lua_pushnil(L);
      while (lua_next(L, scope)) {
        size_t klen;
        if (lua_type(L, -2) == LUA_TSTRING && (!methods_only || lua_isfunction(L, -1))) {
          const char *k = lua_tolstring(L, -2, &klen);
          /* names starting with '_' are private unless the user typed the '_' */
          if (klen >= partlen && memcmp(k, part, partlen) == 0 && is_name(k, klen) &&
              (k[0] != '_' || partlen > 0))
            add_candidate(L, res, prefix, plen, k, klen);
        }
        lua_pop(L, 1);
      }
    }
    if (!push_next_scope(L, scope)) break;
  }
  lua_settop(L, top);
}

/* complete(text) -> set of completions. text is a chain of names joined by
** '.', optionally ending in ':' and the start of a method name. */
static int l_complete(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *end = text + len, *sep = NULL;
  lua_newtable(L);
  int res = lua_gettop(L);
  for (const char *p = text; p < end; p++)
    if (*p == '.' || *p == ':') sep = p;
  const char *part = sep ? sep + 1 : text;
  size_t partlen = (size_t)(end - part);
  if (sep == text) return 0;  /* after "t[1]:" or "f()." : a value we cannot know */
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  if (!sep) {
    add_fields(L, res, lua_gettop(L), "", 0, part, partlen, 0);
    for (const char *const *k = keywords; *k; k++)
      if (strncmp(*k, part, partlen) == 0) add_candidate(L, res, "", 0, *k, strlen(*k));
    lua_pushvalue(L, res);
    return 1;
  }
  for (const char *p = text; p < sep;) {
    const char *q = p;
    while (q < sep && *q != '.' && *q != ':') q++;
    if ((*q == ':' && q != sep) || !is_name(p, (size_t)(q - p))) return 0;  /* a ':' only last */
    lua_pushlstring(L, p, (size_t)(q - p));
    if (!get_field(L)) return 0;
    p = q + 1;
  }
  add_fields(L, res, lua_gettop(L), text, (size_t)(part - text), part, partlen, *sep == ':');
  lua_pushvalue(L, res);
  return 1;
}

/* What the generator below hands to libedit, one at a time. */
static char **candidates;
static size_t ncandidates, next_candidate;

static void free_candidates(void)
{
  for (size_t i = 0; i < ncandidates; i++) free(candidates[i]);
  free(candidates);
  candidates = NULL;
  ncandidates = next_candidate = 0;
}

static char *generate(const char *text, int state)
{
  (void)text;
  if (state == 0) next_candidate = 0;
  return next_candidate < ncandidates ? strdup(candidates[next_candidate++]) : NULL;
}

static int compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **complete(const char *text, int start, int end)
{
  lua_State *L = repl_state;
  int top = lua_gettop(L);
  (void)start;
  (void)end;
  rl_attempted_completion_over = 1;  /* no fallback to file names */
  rl_completion_append_character = '\0';
  free_candidates();
  lua_pushcfunction(L, l_complete);
  lua_pushstring(L, text);
  if (lua_pcall(L, 1, 1, 0) == 0 && lua_istable(L, -1)) {
    size_t cap = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);
      if (ncandidates == cap) {
        size_t ncap = cap ? 2 * cap : 32;
        char **grown = realloc(candidates, ncap * sizeof *candidates);
        if (!grown) break;
        candidates = grown;
        cap = ncap;
      }
      char *s = strdup(lua_tostring(L, -1));
      if (s) candidates[ncandidates++] = s;
    }
  }
  lua_settop(L, top);
  if (ncandidates == 0) return NULL;
  qsort(candidates, ncandidates, sizeof *candidates, compare_strings);
  return rl_completion_matches(text, generate);
}

/* -- The loop ------------------------------------------------------------- */

static char *make_history_path(void)
{
  const char *home = getenv("HOME");
  if (!home || !*home) return NULL;
  size_t n = strlen(home) + sizeof HISTORY_FILE + 1;
  char *path = malloc(n);
  if (path) snprintf(path, n, "%s/%s", home, HISTORY_FILE);
  return path;
}

/* sl = require 'symlua', the REPL's one convenience global. */
static void predefine_sl(lua_State *L)
{
  lua_getglobal(L, "require");
  lua_pushliteral(L, "symlua");
  int status = sl_interp_docall(L, 1, 1);
  if (status == 0) lua_setglobal(L, "sl");
  else sl_interp_report(L, status);
}

void sl_repl(lua_State *L)
{
  /* Multibyte input needs the user's character set; numbers keep the C locale. */
  setlocale(LC_CTYPE, "");
  repl_state = L;
  rl_readline_name = SL_PROGNAME;
  rl_catch_signals = 0;  /* SIGINT is ours: see read_line */
  rl_attempted_completion_function = complete;
  /* '.' and ':' are not breaks, so "sl.ze" and "t:resh" complete as one word. */
  static char breaks[] = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#";
  rl_basic_word_break_characters = breaks;
  rl_completer_word_break_characters = breaks;

  /* Lines piped into `symlua -i` are not something typed: keep them out. */
  stdin_is_tty = isatty(STDIN_FILENO);
  char *history_path = stdin_is_tty ? make_history_path() : NULL;
  using_history();
  stifle_history(HISTORY_LINES);
  if (history_path) read_history(history_path);

  struct sigaction sa, old_action;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint_at_prompt;
  sa.sa_flags = 0;  /* no SA_RESTART: a Ctrl-C must end ppoll's wait */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_action);

  predefine_sl(L);
  printf(SL_PROGNAME " " SYMLUA_VERSION " (" LUAJIT_VERSION ") -- 'sl' is predefined "
         "(sl = require 'symlua'); Ctrl-D exits\n");
  fflush(stdout);

  for (;;) {
    int r = read_statement(L, history_path);
    if (r < 0) break;
    if (r > 0) run_statement(L);
  }
  fputc('\n', stdout);
  fflush(stdout);
  sigaction(SIGINT, &old_action, NULL);
  free_candidates();
  free(history_path);
  repl_state = NULL;
}
