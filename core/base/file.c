/*
** file.c — opening a path for reading, with a reason that names what is
** wrong when it is not a readable regular file.
*/
#define _POSIX_C_SOURCE 200809L   /* fdopen under -std=c11 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* What a path is when it is not a regular file. */
static const char *kind_of(mode_t mode)
{
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "an unknown kind of file";
}

FILE *sl_open_regular(const char *path, int64_t *size)
{
  /* O_NONBLOCK: opening a FIFO must not wait for a writer */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) { sl_fail("%s", strerror(errno)); return NULL; }
  struct stat st;
  if (fstat(fd, &st)) {
    sl_fail("%s", strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    sl_fail("it is %s, not a regular file", kind_of(st.st_mode));
  } else {
    FILE *f = fdopen(fd, "rb");
    if (f) { *size = (int64_t)st.st_size; return f; }
    sl_fail("%s", strerror(errno));
  }
  close(fd);
  return NULL;
}
