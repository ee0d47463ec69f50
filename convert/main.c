/* main.c — the ft-convert command line: arguments in, exit status out.
 *
 * Everything else lives in convert.c and below; this file only parses options, prints the
 * usage, and is the one place that decides the exit status (and calls exit). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "ft_trace.h"
#include "report.h"

#define FT_CONVERT_VERSION "0.1.0"

enum { EXIT_CLEAN = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_DAMAGED = 3 };

static void usage(FILE *f)
{
    fputs(
"usage: ft-convert [-q] INPUT [--run ID] -o OUTPUT\n"
"       ft-convert --list INPUT\n"
"       ft-convert -h | --help | --version\n"
"\n"
"Convert a functiontrace recording into a profile for the Firefox Profiler.\n"
"\n"
"INPUT is one of\n"
"  an output directory of `python -m functiontrace.record` (by default ./traces):\n"
"      its latest run, the run directory whose name sorts last, is converted\n"
"      (or the one --run names; --list shows them all);\n"
"  a run directory, holding one <pid>.ftrace file per process: the whole run;\n"
"  a single .ftrace file: that one process.\n"
"\n"
"Options\n"
"  -o, --output OUTPUT  where to write the profile (required). A name ending in .gz\n"
"                       is gzip-compressed; - writes plain JSON to standard output.\n"
"  -r, --run ID         convert run ID of the output directory INPUT instead of the\n"
"                       latest; any unique beginning of a run id will do\n"
"  -l, --list           list the runs of INPUT instead of converting: run id, trace\n"
"                       files, processes, start time (UTC) and the recorded command\n"
"  -q, --quiet          print problems only, not which run is read and what was written\n"
"  -h, --help           print this text\n"
"      --version        print the version and the trace format version it reads\n"
"\n"
"Open the profile at https://profiler.firefox.com (\"Load a profile from file\"). Each\n"
"traced thread is a track, grouped by process; the call tree and flame graph show traced\n"
"time, not sampled estimates.\n"
"\n"
"Every process of the run is a process of the profile, under its pid and named by its\n"
"command line (multiprocessing workers by their name, e.g. \"SpawnPoolWorker-1\n"
"(multiprocessing spawn worker)\"; a fork by its parent, \"python3 app.py [fork of\n"
"1234]\"). A process that called exec is one process whose threads go on in the new\n"
"program. A pid used by two processes shows the second as <pid>.1. The main thread of\n"
"each process carries a \"Process\" marker per program it ran (Marker Chart and Marker\n"
"Table): how it began (run, fork of pid N, exec, child of pid N), how it ended (exit\n"
"status N, os._exit(N), killed by signal N, exec, cut short), its pid and parent pid.\n"
"\n"
"Damaged input does not stop the conversion: every problem is printed as\n"
"  ft-convert: FILE: offset N: reason\n"
"(without the offset when there is none to give, and with the run directory as FILE for\n"
"a problem of the whole run, such as a missing file of its first process) and everything\n"
"readable is still converted (a trace cut short by a crash keeps all its complete\n"
"frames; a damaged frame loses only itself).\n"
"\n"
"Exit status\n"
"  0  the profile was written and all input was read cleanly\n"
"  1  no profile was written: nothing readable to convert, no such run, or an error\n"
"     such as an unwritable OUTPUT or running out of memory\n"
"  2  usage error\n"
"  3  the profile was written, but the input was damaged, cut short or incomplete\n"
"     (every problem is on standard error, as above)\n"
"  (--list: 0 listed, 1 nothing to list, 3 some run could not be listed)\n"
"\n"
"Examples\n"
"  ft-convert traces -o profile.json\n"
"  ft-convert --list traces\n"
"  ft-convert traces --run 20250101-120000-4242 -o profile.json\n"
"  ft-convert traces/20250101-120000-4242 -o profile.json.gz\n"
"  ft-convert traces/20250101-120000-4242/4242.ftrace -o - | less\n",
        f);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "run", required_argument, NULL, 'r' },
        { "list", no_argument, NULL, 'l' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    ft_convert_opts opts = { NULL, NULL, NULL };
    ft_convert_stats stats;
    ft_report rep;
    int quiet = 0, list = 0, c;

    while ((c = getopt_long(argc, argv, "o:r:lqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            opts.output = optarg;
            break;
        case 'r':
            opts.run_id = optarg;
            break;
        case 'l':
            list = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_CLEAN);
        case 'V':
            printf("ft-convert %s (functiontrace), reads trace format version %d\n",
                   FT_CONVERT_VERSION, FT_FORMAT_VERSION);
            exit(EXIT_CLEAN);
        default:
            fputs("Try 'ft-convert --help'.\n", stderr);
            exit(EXIT_USAGE);
        }
    }
    if (optind != argc - 1 || (!opts.output && !list) || (list && (opts.output || opts.run_id))) {
        fprintf(stderr, "ft-convert: %s\nTry 'ft-convert --help'.\n",
                optind >= argc ? "no INPUT given" :
                optind < argc - 1 ? "only one INPUT can be converted at a time" :
                list ? "--list lists the runs of INPUT and converts nothing: no -o or --run" :
                "no OUTPUT given (-o FILE, or -o - for standard output)");
        exit(EXIT_USAGE);
    }
    opts.input = argv[optind];

    ft_report_init(&rep, stderr, quiet);
    if (list) {
        switch (ft_convert_list(opts.input, stdout, &rep)) {
        case FT_CONVERT_OK:
            exit(EXIT_CLEAN);
        case FT_CONVERT_DAMAGED:
            exit(EXIT_DAMAGED);
        case FT_CONVERT_FAILED:
            break;
        }
        exit(EXIT_FAILED);
    }
    switch (ft_convert(&opts, &rep, &stats)) {
    case FT_CONVERT_OK:
    case FT_CONVERT_DAMAGED:
        ft_report_note(&rep, "wrote %s: %u process%s, %u thread%s, %llu samples from %llu "
                       "events in %.2f s",
                       strcmp(opts.output, "-") ? opts.output : "standard output",
                       stats.processes, stats.processes == 1 ? "" : "es",
                       stats.threads, stats.threads == 1 ? "" : "s",
                       (unsigned long long)stats.samples, (unsigned long long)stats.events,
                       stats.seconds);
        if (rep.problems) {
            fprintf(stderr, "ft-convert: %lu problem%s in the input; the profile holds "
                    "everything that could be read\n", rep.problems,
                    rep.problems == 1 ? "" : "s");
            exit(EXIT_DAMAGED);
        }
        exit(EXIT_CLEAN);
    case FT_CONVERT_FAILED:
        break;
    }
    exit(EXIT_FAILED);
}
