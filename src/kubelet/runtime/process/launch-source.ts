/**
 * @module The C source of skiff-launch, the native container launcher: what the shell
 * preamble of launcher.ts does with nsenter, unshare, mount(8), umount(8), rm, mkdir and
 * setpriv — join the pod's network namespace, a private mount and UTS namespace, the
 * container's cgroups, hostname, private /dev/shm and /tmp, the pod's /etc files and the
 * volumes (staged first so no mount hides a later source), working dir, user — done with
 * system calls in one process that then execs the container's command. One exec instead
 * of about twenty programs per container start. Compiled like skiff-shim; when no C
 * compiler works the shell preamble is used.
 */

/** Bumped whenever the spec format changes. */
export const launchProtocolVersion = 1;

/**
 * usage: skiff-launch SPEC_FILE -- COMMAND [ARGS...]
 * SPEC_FILE holds one directive per line, fields separated by tabs, run in order:
 *   err PATH | netns PATH | isolate | cgroup PROCS_FILE | hostname NAME |
 *   tmpfs TARGET FLAGS DATA | stage DIR | stagefile SRC AT | stagedir SRC AT |
 *   bind SRC TARGET file|dir | ro TARGET | unstage | cwd DIR | user UID|- GID GROUPS|-
 */
export const launchSource = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define START_ERROR 128
#define MAX_STAGED 256

static int err_fd = -1;
static char *staged[MAX_STAGED];
static int nstaged;
static char stage_dir[4096];

static void fail(const char *fmt, ...) {
  char msg[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err_fd >= 0 && write(err_fd, msg, strlen(msg)) < 0) {}
  dprintf(2, "skiff: %s\n", msg);
  _exit(START_ERROR);
}

static int mkdir_p(const char *path) {
  char tmp[4096];
  size_t i, n = strlen(path);
  if (n >= sizeof tmp) return -1;
  memcpy(tmp, path, n + 1);
  for (i = 1; i < n; i++) {
    if (tmp[i] != '/') continue;
    tmp[i] = 0;
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -1;
    tmp[i] = '/';
  }
  return (mkdir(tmp, 0755) < 0 && errno != EEXIST) ? -1 : 0;
}

static unsigned long mount_flags(const char *list) {
  unsigned long f = 0;
  if (strstr(list, "nosuid")) f |= MS_NOSUID;
  if (strstr(list, "nodev")) f |= MS_NODEV;
  if (strstr(list, "noexec")) f |= MS_NOEXEC;
  return f;
}

/* A missing mount point inside /tmp or a volume is created there, as runc creates it in the rootfs. */
static void mount_point(const char *target, int file) {
  struct stat st;
  if (file) {
    char parent[4096];
    char *slash;
    int fd;
    if (stat(target, &st) == 0) return;
    snprintf(parent, sizeof parent, "%s", target);
    slash = strrchr(parent, '/');
    if (slash && slash != parent) {
      *slash = 0;
      if (mkdir_p(parent) < 0) fail("cannot create mount point %s", target);
    }
    fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail("cannot create mount point %s", target);
    close(fd);
  } else if (stat(target, &st) < 0 || !S_ISDIR(st.st_mode)) {
    if (mkdir_p(target) < 0) fail("cannot create mount point %s", target);
  }
}

static void unstage(void) {
  int i;
  for (i = 0; i < nstaged; i++) {
    umount2(staged[i], MNT_DETACH);
    if (remove(staged[i]) < 0) {}
    free(staged[i]);
  }
  nstaged = 0;
  if (stage_dir[0]) rmdir(stage_dir);
  stage_dir[0] = 0;
}

/* Go's exec.LookPath as runc reports it. */
static const char *look_path(const char *cmd, char *buf, size_t len) {
  const char *path = getenv("PATH");
  struct stat st;
  if (strchr(cmd, '/')) {
    if (stat(cmd, &st) == 0 && S_ISREG(st.st_mode) && access(cmd, X_OK) == 0) return cmd;
    fail("exec: \"%s\": stat %s: no such file or directory", cmd, cmd);
  }
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (*path) {
    const char *end = strchr(path, ':');
    size_t n = end ? (size_t)(end - path) : strlen(path);
    snprintf(buf, len, "%.*s/%s", (int)n, n ? path : ".", cmd);
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return buf;
    path += n + (end ? 1 : 0);
  }
  fail("exec: \"%s\": executable file not found in $PATH", cmd);
  return NULL;
}

int main(int argc, char **argv) {
  char line[16384], resolved[4096];
  FILE *spec;
  int cmd = 2;
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    dprintf(2, "usage: skiff-launch SPEC -- COMMAND [ARGS...]\n");
    return START_ERROR;
  }
  cmd = 3;
  spec = fopen(argv[1], "re");
  if (!spec) {
    dprintf(2, "skiff: cannot read launch spec %s: %s\n", argv[1], strerror(errno));
    return START_ERROR;
  }
  while (fgets(line, sizeof line, spec)) {
    char *f[5] = {0};
    char *save = NULL, *p;
    int n = 0;
    line[strcspn(line, "\n")] = 0;
    for (p = strtok_r(line, "\t", &save); p && n < 5; p = strtok_r(NULL, "\t", &save)) f[n++] = p;
    if (n == 0) continue;
    if (!strcmp(f[0], "err")) {
      /* Opened before any mount: the state dir may sit under /tmp or a mountPath, hidden later. */
      err_fd = open(f[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (err_fd < 0) return START_ERROR;
    } else if (!strcmp(f[0], "netns")) {
      int fd = open(f[1], O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) fail("cannot join the pod network namespace %s: %s", f[1], strerror(errno));
      close(fd);
    } else if (!strcmp(f[0], "isolate")) {
      if (unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0) fail("cannot create the container's mount namespace: %s", strerror(errno));
      if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("cannot make mounts private: %s", strerror(errno));
    } else if (!strcmp(f[0], "cgroup")) {
      int fd = open(f[1], O_WRONLY | O_CLOEXEC);
      char pid[32];
      int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
      if (fd < 0 || write(fd, pid, (size_t)len) < 0) fail("cannot join cgroup %s", f[1]);
      close(fd);
    } else if (!strcmp(f[0], "hostname")) {
      if (sethostname(f[1], strlen(f[1])) < 0) fail("cannot set the pod hostname");
    } else if (!strcmp(f[0], "tmpfs")) {
      if (mount(!strcmp(f[1], "/dev/shm") ? "shm" : "tmpfs", f[1], "tmpfs", mount_flags(f[2]), f[3]) < 0)
        fail("mounting a private %s: %s", f[1], strerror(errno));
    } else if (!strcmp(f[0], "stage")) {
      snprintf(stage_dir, sizeof stage_dir, "%s", f[1]);
      if (mkdir_p(stage_dir) < 0) fail("cannot create the mount stage");
    } else if (!strcmp(f[0], "stagefile") || !strcmp(f[0], "stagedir")) {
      if (f[0][5] == 'f') {
        int fd = open(f[2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) fail("cannot stage a mount");
        close(fd);
      } else if (mkdir(f[2], 0755) < 0) fail("cannot stage a mount");
      if (mount(f[1], f[2], NULL, MS_BIND, NULL) < 0) fail("mounting %s: %s", f[1], strerror(errno));
      if (nstaged < MAX_STAGED) staged[nstaged++] = strdup(f[2]);
    } else if (!strcmp(f[0], "bind")) {
      mount_point(f[2], f[3] && !strcmp(f[3], "file"));
      if (mount(f[1], f[2], NULL, MS_BIND, NULL) < 0) {
        if (!strncmp(f[2], "/etc/", 5)) fail("mounting %s: %s", f[2], strerror(errno));
        fail("mounting volume at %s: %s", f[2], strerror(errno));
      }
    } else if (!strcmp(f[0], "ro")) {
      if (mount(NULL, f[1], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) fail("making %s read-only: %s", f[1], strerror(errno));
    } else if (!strcmp(f[0], "unstage")) {
      unstage();
    } else if (!strcmp(f[0], "cwd")) {
      if (chdir(f[1]) < 0) fail("chdir to cwd (\"%s\") set in config.json failed: no such file or directory", f[1]);
    } else if (!strcmp(f[0], "user")) {
      gid_t groups[64];
      int ng = 0;
      if (f[3] && strcmp(f[3], "-")) {
        char *g, *gs = NULL;
        for (g = strtok_r(f[3], ",", &gs); g && ng < 64; g = strtok_r(NULL, ",", &gs)) groups[ng++] = (gid_t)atol(g);
      }
      if (setgroups((size_t)ng, groups) < 0 || setgid((gid_t)atol(f[2])) < 0) fail("cannot set the container's groups: %s", strerror(errno));
      if (strcmp(f[1], "-") && setuid((uid_t)atol(f[1])) < 0) fail("cannot set the container's user: %s", strerror(errno));
    }
  }
  fclose(spec);
  {
    const char *path = look_path(argv[cmd], resolved, sizeof resolved);
    execv(path, argv + cmd);
    fail("exec: \"%s\": %s", argv[cmd], strerror(errno));
  }
  return START_ERROR;
}
`;
