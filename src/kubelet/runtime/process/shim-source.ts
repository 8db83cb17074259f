/**
 * @module The C source of skiff-shim, the per-container monitor (conmon's role): it
 * starts the container's launcher in its own session, turns its stdout/stderr into CRI
 * log lines with size-based rotation, and records the exit status in a file — so
 * containers and their logs outlive a restart of the node agent. Compiled on first use.
 */

/** Bumped whenever the protocol between the runtime and the shim changes. */
export const shimProtocolVersion = 2;

export const shimSource = String.raw`
/* skiff-shim: usage
 *   skiff-shim LOG_PATH EXIT_FILE MAX_LOG_BYTES MAX_LOG_FILES PROGRAM [ARGS...]
 * Prints the container's pid on stdout (or "error: ..."), then closes stdout.
 * EXIT_FILE receives "<exitCode> <finishedAtUnixNanos>\n" once the container has exited.
 * Environment (removed before the container starts):
 *   SKIFF_SHIM_STDIN=FIFO  the container's stdin (spec.stdin): attachers write into this FIFO
 *   SKIFF_SHIM_CTL=FIFO    control lines: "resize ROWS COLS", "eof" (stdinOnce: the attacher left)
 *   SKIFF_SHIM_TTY=1       run the container on a pseudo-terminal (spec.tty); its output is "stdout"
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384

static const char *log_path;
static int log_fd = -1;
static long long log_size;
static long long max_bytes;
static int max_files;

struct stream {
  const char *name;
  int fd;
  /* A terminal's output is shown as it comes (prompts have no newline): partial lines are written at once. */
  int flush_partial;
  size_t len;
  char buf[LINE_MAX_BYTES];
};

static void open_log(void) {
  struct stat st;
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  log_size = (log_fd >= 0 && fstat(log_fd, &st) == 0) ? (long long)st.st_size : 0;
}

static char prune_prefix[512];

static int rotated_name(const struct dirent *e) {
  return strncmp(e->d_name, prune_prefix, strlen(prune_prefix)) == 0;
}

/* kubelet's rotation: the live file becomes <path>.<YYYYMMDD-hhmmss>; MAX_LOG_FILES - 1 rotated files are kept. */
static void rotate(void) {
  char target[4400], stamp[32], dir[4096];
  const char *slash;
  struct dirent **list = NULL;
  time_t now = time(NULL);
  struct tm tm;
  int i, n;
  if (log_fd >= 0) close(log_fd);
  log_fd = -1;
  if (max_files <= 1) {
    unlink(log_path);
    open_log();
    return;
  }
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  snprintf(target, sizeof target, "%s.%s", log_path, stamp);
  for (i = 1; access(target, F_OK) == 0; i++) snprintf(target, sizeof target, "%s.%s.%d", log_path, stamp, i);
  rename(log_path, target);
  slash = strrchr(log_path, '/');
  if (slash) {
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - log_path), log_path);
    snprintf(prune_prefix, sizeof prune_prefix, "%s.", slash + 1);
  } else {
    snprintf(dir, sizeof dir, ".");
    snprintf(prune_prefix, sizeof prune_prefix, "%s.", log_path);
  }
  n = scandir(dir, &list, rotated_name, alphasort);
  for (i = 0; i < n; i++) {
    if (i < n - (max_files - 1)) {
      char old[4400];
      snprintf(old, sizeof old, "%s/%s", dir, list[i]->d_name);
      unlink(old);
    }
    free(list[i]);
  }
  free(list);
  open_log();
}

static void write_entry(const char *stream, char tag, const char *data, size_t len) {
  char head[96];
  struct timespec ts;
  struct tm tm;
  struct iovec iov[3];
  int n;
  ssize_t w;
  if (log_fd < 0) open_log();
  if (log_fd < 0) return;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  n = (int)strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
  n += snprintf(head + n, sizeof head - (size_t)n, ".%09ldZ %s %c ", ts.tv_nsec, stream, tag);
  iov[0].iov_base = head;
  iov[0].iov_len = (size_t)n;
  iov[1].iov_base = (void *)data;
  iov[1].iov_len = len;
  iov[2].iov_base = "\n";
  iov[2].iov_len = 1;
  w = writev(log_fd, iov, 3);
  if (w > 0) log_size += w;
  if (max_bytes > 0 && log_size >= max_bytes) rotate();
}

/* Complete lines become "F" entries; a line longer than the buffer is split into "P" parts. */
static void drain(struct stream *s, int at_eof) {
  size_t start = 0, i;
  for (i = 0; i < s->len; i++) {
    if (s->buf[i] == '\n') {
      write_entry(s->name, 'F', s->buf + start, i - start);
      start = i + 1;
    }
  }
  if (start > 0) {
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
  }
  if (s->len == sizeof s->buf) {
    write_entry(s->name, 'P', s->buf, s->len);
    s->len = 0;
  }
  if (at_eof && s->len > 0) {
    write_entry(s->name, 'F', s->buf, s->len);
    s->len = 0;
  }
}

static void pump(struct stream *s) {
  ssize_t r = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
  if (r > 0) {
    s->len += (size_t)r;
    drain(s, 0);
    if (s->flush_partial && s->len > 0) {
      write_entry(s->name, 'P', s->buf, s->len);
      s->len = 0;
    }
    return;
  }
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  drain(s, 1);
  close(s->fd);
  s->fd = -1;
}

/* What an attacher wrote goes to the container's stdin (a pipe, or the terminal's input). */
static void forward_stdin(int from, int to) {
  char buf[4096];
  ssize_t r = read(from, buf, sizeof buf), off = 0;
  while (r > 0 && off < r) {
    ssize_t w = write(to, buf + off, (size_t)(r - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      /* A container that does not read its input does not stall the shim: the rest is dropped. */
      if (errno == EAGAIN) { struct pollfd p = { to, POLLOUT, 0 }; if (poll(&p, 1, 100) == 1) continue; }
      return;
    }
    off += w;
  }
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void write_exit(const char *exit_file, int code, long long finished) {
  char tmp[4352];
  FILE *f;
  snprintf(tmp, sizeof tmp, "%s.tmp", exit_file);
  f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "%d %lld\n", code, finished);
  fflush(f);
  fsync(fileno(f));
  fclose(f);
  rename(tmp, exit_file);
}

int main(int argc, char **argv) {
  int out[2], err[2], sync[2], inp[2] = {-1, -1}, devnull, sfd, status = 0, code = 255, exited = 0;
  int in_fifo = -1, ctl_fifo = -1, master = -1, in_w = -1, use_tty = 0;
  const char *stdin_path = NULL, *ctl_path = NULL;
  char *slave_name = NULL;
  long long finished = 0, deadline = 0;
  struct stream so, se;
  sigset_t mask;
  pid_t pid;
  const char *exit_file;

  if (argc < 6) {
    fprintf(stdout, "error: usage: skiff-shim LOG EXIT MAXBYTES MAXFILES PROGRAM [ARGS...]\n");
    return 2;
  }
  log_path = argv[1];
  exit_file = argv[2];
  max_bytes = atoll(argv[3]);
  max_files = atoi(argv[4]);

  {
    const char *v;
    if ((v = getenv("SKIFF_SHIM_STDIN")) && *v) stdin_path = strdup(v);
    if ((v = getenv("SKIFF_SHIM_CTL")) && *v) ctl_path = strdup(v);
    use_tty = (v = getenv("SKIFF_SHIM_TTY")) && strcmp(v, "1") == 0;
    unsetenv("SKIFF_SHIM_STDIN");
    unsetenv("SKIFF_SHIM_CTL");
    unsetenv("SKIFF_SHIM_TTY");
  }
  /* Opened read-write: the FIFOs never report EOF when an attacher leaves (stdinOnce goes through "eof"). */
  if (stdin_path && ((mkfifo(stdin_path, 0600) < 0 && errno != EEXIST) || (in_fifo = open(stdin_path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)) {
    fprintf(stdout, "error: stdin %s: %s\n", stdin_path, strerror(errno));
    return 1;
  }
  if (ctl_path && ((mkfifo(ctl_path, 0600) < 0 && errno != EEXIST) || (ctl_fifo = open(ctl_path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)) {
    fprintf(stdout, "error: control %s: %s\n", ctl_path, strerror(errno));
    return 1;
  }
  if (use_tty) {
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || !(slave_name = ptsname(master))) {
      fprintf(stdout, "error: pseudo-terminal: %s\n", strerror(errno));
      return 1;
    }
    slave_name = strdup(slave_name);
  } else if (stdin_path && pipe2(inp, O_CLOEXEC) < 0) {
    fprintf(stdout, "error: stdin pipe: %s\n", strerror(errno));
    return 1;
  }

  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (sfd < 0 || devnull < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(sync, O_CLOEXEC) < 0) {
    fprintf(stdout, "error: setup: %s\n", strerror(errno));
    return 1;
  }
  fflush(stdout);
  pid = fork();
  if (pid < 0) {
    fprintf(stdout, "error: fork: %s\n", strerror(errno));
    return 1;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    /* Its own session and process group: the runtime signals the whole group. */
    setsid();
    if (use_tty) {
      int slave = open(slave_name, O_RDWR);
      if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) {
        dprintf(err[1], "skiff-shim: terminal %s: %s\n", slave_name, strerror(errno));
        _exit(127);
      }
      dup2(slave, 0);
      dup2(slave, 1);
      dup2(slave, 2);
      if (slave > 2) close(slave);
    } else {
      dup2(stdin_path ? inp[0] : devnull, 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
    }
    execv(argv[5], argv + 5);
    dprintf(2, "skiff-shim: exec %s: %s\n", argv[5], strerror(errno));
    {
      int e = errno;
      if (write(sync[1], &e, sizeof e) < 0) _exit(127);
    }
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  close(sync[1]);
  if (inp[0] >= 0) close(inp[0]);
  in_w = use_tty ? master : inp[1];
  if (in_w >= 0) fcntl(in_w, F_SETFL, fcntl(in_w, F_GETFL) | O_NONBLOCK);
  /* The sync pipe closes on exec (or carries exec's errno): by then the child leads its own group. */
  {
    int e;
    while (read(sync[0], &e, sizeof e) < 0 && errno == EINTR) {}
    close(sync[0]);
  }
  fprintf(stdout, "%d\n", (int)pid);
  fflush(stdout);
  dup2(devnull, 1);
  dup2(devnull, 2);

  so.name = "stdout"; so.fd = out[0]; so.len = 0; so.flush_partial = 0;
  se.name = "stderr"; se.fd = err[0]; se.len = 0; se.flush_partial = 0;
  if (use_tty) {
    /* Everything comes through the terminal; the pipes only carried a failed exec's message. */
    pump(&se);
    close(so.fd);
    so.fd = master;
    so.flush_partial = 1;
  }
  open_log();

  for (;;) {
    struct pollfd fds[5];
    int n = 0, timeout = -1, rc, io = -1, ie = -1, ii = -1, ic = -1;
    if (exited) {
      long long left = (deadline - now_ns()) / 1000000LL;
      if ((so.fd < 0 && se.fd < 0) || left <= 0) break;
      timeout = (int)left;
    }
    if (so.fd >= 0) { io = n; fds[n].fd = so.fd; fds[n].events = POLLIN; fds[n].revents = 0; n++; }
    if (se.fd >= 0) { ie = n; fds[n].fd = se.fd; fds[n].events = POLLIN; fds[n].revents = 0; n++; }
    if (!exited && in_fifo >= 0 && in_w >= 0) { ii = n; fds[n].fd = in_fifo; fds[n].events = POLLIN; fds[n].revents = 0; n++; }
    if (!exited && ctl_fifo >= 0) { ic = n; fds[n].fd = ctl_fifo; fds[n].events = POLLIN; fds[n].revents = 0; n++; }
    fds[n].fd = sfd; fds[n].events = POLLIN; fds[n].revents = 0; n++;
    rc = poll(fds, (nfds_t)n, timeout);
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (io >= 0 && fds[io].revents) pump(&so);
    if (ie >= 0 && fds[ie].revents) pump(&se);
    if (use_tty && so.fd < 0) { in_w = -1; master = -1; }
    if (ii >= 0 && fds[ii].revents && in_w >= 0) forward_stdin(in_fifo, in_w);
    if (ic >= 0 && fds[ic].revents) {
      char line[128];
      ssize_t r = read(ctl_fifo, line, sizeof line - 1);
      if (r > 0) {
        char *p, *save = NULL;
        line[r] = 0;
        for (p = strtok_r(line, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
          unsigned rows, cols;
          if (sscanf(p, "resize %u %u", &rows, &cols) == 2 && master >= 0) {
            struct winsize ws;
            memset(&ws, 0, sizeof ws);
            ws.ws_row = (unsigned short)rows;
            ws.ws_col = (unsigned short)cols;
            ioctl(master, TIOCSWINSZ, &ws);
          } else if (strcmp(p, "eof") == 0 && in_w >= 0) {
            if (use_tty) {
              /* A terminal has no end of input: the line discipline's EOF character is it. */
              char eot = 4;
              if (write(in_w, &eot, 1) < 0) {}
            } else {
              close(in_w);
              in_w = -1;
            }
          }
        }
      }
    }
    if (!exited) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {}
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = 1;
        finished = now_ns();
        code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
        /* The container ends with its main process: what it left behind goes too. */
        kill(-pid, SIGKILL);
        deadline = finished + 2000000000LL;
      }
    }
  }
  if (so.fd >= 0) { drain(&so, 1); close(so.fd); }
  if (se.fd >= 0) { drain(&se, 1); close(se.fd); }
  if (!exited) {
    waitpid(pid, &status, 0);
    finished = now_ns();
    code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  }
  if (log_fd >= 0) fsync(log_fd);
  write_exit(exit_file, code, finished);
  return 0;
}
`;
