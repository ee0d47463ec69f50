/* replay.c — a main() for the fuzz targets in a plain build (no libFuzzer, any compiler):
 * runs LLVMFuzzerTestOneInput once on every file named on the command line, and on every
 * file of every directory named. `make test` replays the seed corpus and every crasher
 * found so far (tests/fuzz/crashers/) this way, so a fixed crash stays fixed. A crash or a
 * sanitizer report fails the run; nothing else is checked. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f) {
        perror(path);
        return -1;
    }
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            if (!(buf = realloc(buf, cap)))
                abort();
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    replayed++;
    return 0;
}

static int replay_path(const char *path)
{
    struct stat sb;
    struct dirent **names;
    int n, rc = 0;

    if (stat(path, &sb) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode))
        return replay_file(path);
    /* Sorted, so that a failure names the same input on every run. */
    if ((n = scandir(path, &names, NULL, alphasort)) < 0) {
        perror(path);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char sub[4096];
        if (names[i]->d_name[0] != '.') {
            snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name);
            rc |= replay_path(sub);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;

    for (int i = 1; i < argc; i++)
        rc |= replay_path(argv[i]);
    printf("%s: %lu inputs replayed\n", argv[0], replayed);
    return rc ? 1 : 0;
}
