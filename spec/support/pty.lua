-- Runs a program on a pseudo-terminal for the specs, as a person at a terminal
-- would: keystrokes in, screen text out. Every read has a deadline and close()
-- kills the child, so a spec never hangs on a stuck program.
local ffi = require 'ffi'

-- One declaration at a time: another spec in this process may have declared
-- some of these already, which is an error for ffi.cdef but harmless here.
for decl in ([[
int posix_openpt(int flags);
int grantpt(int fd);
int unlockpt(int fd);
char *ptsname(int fd);
int fork(void);
int setsid(void);
int open(const char *path, int flags, ...);
int dup2(int oldfd, int newfd);
int close(int fd);
int execve(const char *path, char *const argv[], char *const envp[]);
void _exit(int status);
long read(int fd, void *buf, size_t n);
long write(int fd, const void *buf, size_t n);
int kill(int pid, int sig);
int waitpid(int pid, int *status, int options);
int ioctl(int fd, unsigned long request, ...);
extern char **environ;
struct symlua_pollfd { int fd; short events; short revents; };
int poll(struct symlua_pollfd *fds, unsigned long nfds, int timeout);
struct symlua_winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; };
struct symlua_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clock, struct symlua_timespec *ts);
]]):gmatch('[^\n]+') do
  pcall(ffi.cdef, decl)
end

local C = ffi.C
local O_RDWR, O_NOCTTY = 2, 256            -- Linux values
local TIOCSWINSZ = 0x5414                  -- Linux, x86 and arm
local POLLIN = 1
local SIGKILL = 9
local WNOHANG = 1

local M = {}
local Pty = {}
Pty.__index = Pty

local CLOCK_MONOTONIC = 1

local function now_ms()
  local ts = ffi.new('struct symlua_timespec')
  C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local function sleep_ms(ms) C.poll(nil, 0, ms) end
M.sleep_ms = sleep_ms

local function cstrings(list)
  local arr = ffi.new('char *[?]', #list + 1)
  local keep = {}
  for i, s in ipairs(list) do
    keep[i] = ffi.new('char[?]', #s + 1, s)
    arr[i - 1] = keep[i]
  end
  arr[#list] = nil
  return arr, keep
end

-- M.spawn(path, argv, env): argv without the program name; env a table of
-- name = value added to (and overriding) the current environment.
function M.spawn(path, args, env)
  local envlist, seen = {}, {}
  for name, value in pairs(env or {}) do
    envlist[#envlist + 1] = name .. '=' .. value
    seen[name] = true
  end
  local i = 0
  while C.environ[i] ~= nil do
    local entry = ffi.string(C.environ[i])
    local name = entry:match('^([^=]*)=')
    if name and not seen[name] then envlist[#envlist + 1] = entry end
    i = i + 1
  end

  local master = C.posix_openpt(O_RDWR + O_NOCTTY)
  assert(master >= 0, 'posix_openpt failed')
  assert(C.grantpt(master) == 0 and C.unlockpt(master) == 0, 'grantpt/unlockpt failed')
  local slave_name = ffi.string(C.ptsname(master))
  local ws = ffi.new('struct symlua_winsize', 24, 80, 0, 0)
  C.ioctl(master, TIOCSWINSZ, ws)

  -- Everything the child needs is made before fork: it only makes system calls.
  local argv, keep_argv = cstrings({ path, unpack(args or {}) })
  local envp, keep_envp = cstrings(envlist)
  local cpath = ffi.new('char[?]', #path + 1, path)
  local cslave = ffi.new('char[?]', #slave_name + 1, slave_name)

  local pid = C.fork()
  if pid == 0 then
    C.setsid()  -- a new session, so the terminal opened next becomes ours
    local slave = C.open(cslave, O_RDWR)
    if slave < 0 then C._exit(126) end
    C.dup2(slave, 0); C.dup2(slave, 1); C.dup2(slave, 2)
    if slave > 2 then C.close(slave) end
    C.close(master)
    C.execve(cpath, argv, envp)
    C._exit(127)
  end
  assert(pid > 0, 'fork failed')
  return setmetatable({ pid = pid, fd = master, out = '', status = nil,
                        keep = { keep_argv, keep_envp } }, Pty)
end

-- Reads what is there within ms milliseconds; returns false once the child
-- has closed the terminal.
function Pty:pump(ms)
  local pfd = ffi.new('struct symlua_pollfd[1]')
  pfd[0].fd, pfd[0].events = self.fd, POLLIN
  if C.poll(pfd, 1, ms) <= 0 then return true end
  local buf = ffi.new('char[4096]')
  local n = C.read(self.fd, buf, 4096)
  if n <= 0 then return false end  -- EIO: the child is gone
  self.out = self.out .. ffi.string(buf, n)
  return true
end

-- Without escape sequences, carriage returns and bells: what the screen shows.
function M.plain(s)
  return (s:gsub('\27%[[%d;?]*[%a@]', ''):gsub('[\r\7]', ''))
end

function Pty:send(keys)
  local n = C.write(self.fd, keys, #keys)
  assert(n == #keys, 'write to the terminal failed')
end

-- Waits until the plain text of the output since the last call matches the
-- Lua pattern; returns that text, or nil and what was seen on timeout.
function Pty:expect(pattern, timeout_ms)
  local deadline = now_ms() + (timeout_ms or 5000)
  while true do
    local text = M.plain(self.out)
    if text:find(pattern) then
      self.out = ''
      return text
    end
    local left = deadline - now_ms()
    if left <= 0 then return nil, text end
    if not self:pump(math.min(50, math.ceil(left))) then
      text = M.plain(self.out)
      if text:find(pattern) then self.out = ''; return text end
      return nil, text
    end
  end
end

-- Types a line and waits for the next prompt; returns the output in between.
function Pty:line(text, timeout_ms)
  self:send(text .. '\r')
  local out, seen = self:expect('\n> $', timeout_ms)
  assert(out, 'no prompt after ' .. text .. '; the screen shows:\n' .. tostring(seen))
  return out
end

-- Waits for the child to exit; returns its exit code, or nil (and kills it)
-- when it is still running after timeout_ms, or -signal when killed by one.
function Pty:wait(timeout_ms)
  local st = ffi.new('int[1]')
  local deadline = now_ms() + (timeout_ms or 5000)
  while true do
    self:pump(0)
    local r = C.waitpid(self.pid, st, WNOHANG)
    if r == self.pid then
      self.pid = nil
      local s = st[0]
      if s % 128 == 0 then return math.floor(s / 256) % 256 end
      return -(s % 128)
    end
    if now_ms() >= deadline then return nil end
    sleep_ms(20)
  end
end

function Pty:close()
  if self.pid then
    C.kill(self.pid, SIGKILL)
    C.waitpid(self.pid, ffi.new('int[1]'), 0)
    self.pid = nil
  end
  if self.fd then
    C.close(self.fd)
    self.fd = nil
  end
end

return M
