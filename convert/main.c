/* main.c — the ft-convert command line: arguments in, exit status out.
 *
 * Everything else lives in convert.c and below; this file only parses options, prints the
 * usage, and is the one place that decides the exit status (and calls exit). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "convert.h"
#include "filter.h"
#include "ft_trace.h"
#include "info.h"
#include "report.h"

#define FT_CONVERT_VERSION "0.1.0"

enum { EXIT_CLEAN = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_DAMAGED = 3 };

static void usage(FILE *f)
{
    fputs(
"usage: ft-convert [-q] INPUT [--run ID] [--format FORMAT] [FILTERS] -o OUTPUT\n"
"       ft-convert --summary [--top N] [FILTERS] INPUT [-o OUTPUT]\n"
"       ft-convert --merge-runs [--run ID]... INPUT... -o OUTPUT\n"
"       ft-convert --list INPUT\n"
"       ft-convert --info INPUT [--run ID]\n"
"       ft-convert -h | --help | --version\n"
"\n"
"Convert a functiontrace recording into a profile for the Firefox Profiler, a Chrome\n"
"trace for Perfetto, or a summary of where the time went.\n"
"\n"
"INPUT is one of\n"
"  an output directory of `python -m functiontrace.record` (by default ./traces):\n"
"      its latest run, the run directory whose name sorts last, is converted\n"
"      (or the one --run names; --list shows them all);\n"
"  a run directory, holding one <pid>.ftrace file per process: the whole run;\n"
"  a single .ftrace file: that one process.\n"
"\n"
"Options\n"
"  -o, --output OUTPUT  where to write the profile (required but with --summary,\n"
"                       which prints on standard output). A name ending in .gz is\n"
"                       gzip-compressed; - writes to standard output.\n"
"  -f, --format FORMAT  firefox (the default): a profile for profiler.firefox.com;\n"
"                       chrome: Chrome trace event JSON, for ui.perfetto.dev and\n"
"                       chrome://tracing (each call a B/E pair, ts in microseconds);\n"
"                       summary: a text table per process and thread of the functions\n"
"                       with the most self and total time, and their call counts\n"
"      --summary        the same as --format summary\n"
"      --top N          summary: show N functions per table (default 20)\n"
"      --info           print what INPUT holds instead of converting: hosts, processes\n"
"                       (pid, command, how each began and ended), threads, time span,\n"
"                       events, dropped events, files complete or cut short; fast, it\n"
"                       decodes no event\n"
"      --merge-runs     convert every run of the INPUTs (output directories, run\n"
"                       directories or files; with --run, only those runs) onto one\n"
"                       timeline: runs of one machine share its clock, runs of several\n"
"                       hosts are aligned by their wall-clock anchors\n"
"      --warn-size MB   warn when the JSON output exceeds MB megabytes (default 1000,\n"
"                       about what browsers still open)\n"
"  -r, --run ID         convert run ID of the output directory INPUT instead of the\n"
"                       latest; any unique beginning of a run id will do (repeatable\n"
"                       with --merge-runs)\n"
"  -l, --list           list the runs of INPUT instead of converting: run id, trace\n"
"                       files, processes, start time (UTC) and the recorded command\n"
"  -q, --quiet          print problems only, not which run is read and what was written\n"
"  -h, --help           print this text\n"
"      --version        print the version and the trace format version it reads\n"
"\n"
"Filters, to make a huge trace loadable (any output):\n"
"      --from TIME      drop what happens before TIME after the run started; calls\n"
"                       running then start there\n"
"      --to TIME        drop what happens after TIME; calls running then end there\n"
"      --pid PID        only this process (repeatable); --info lists the pids\n"
"      --tid TID        only this thread (repeatable); --info lists the tids\n"
"      --min-duration TIME\n"
"                       fold calls shorter than TIME, and what they called, into their\n"
"                       callers (whose self time grows by as much)\n"
"  TIME is in seconds (1.5) or has a unit: 250ms, 30us, 100ns.\n"
"\n"
"On a terminal, a long conversion shows its progress on stderr.\n"
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
"  (--list: 0 listed, 1 nothing to list, 3 some run could not be listed;\n"
"   --info: 0 every file complete, 1 nothing readable, 3 some file damaged or cut short)\n"
"\n"
"Examples\n"
"  ft-convert traces -o profile.json\n"
"  ft-convert --list traces\n"
"  ft-convert traces --run 20250101-120000-4242 -o profile.json\n"
"  ft-convert traces/20250101-120000-4242 -o profile.json.gz\n"
"  ft-convert traces/20250101-120000-4242/4242.ftrace -o - | less\n"
"  ft-convert --summary traces                  # where the time went, in the terminal\n"
"  ft-convert --summary --top 5 --pid 4242 traces\n"
"  ft-convert traces --format chrome -o trace.json   # open in ui.perfetto.dev\n"
"  ft-convert --info traces                     # what the latest run holds\n"
"  ft-convert traces --from 10 --to 12.5 --min-duration 50us -o part.json.gz\n"
"  ft-convert --merge-runs hostA/traces hostB/traces -o both.json\n",
        f);
}

/* Options without a short form. */
enum {
    OPT_VERSION = 0x100, OPT_SUMMARY, OPT_TOP, OPT_INFO, OPT_FROM, OPT_TO, OPT_PID, OPT_TID,
    OPT_MIN_DURATION, OPT_MERGE, OPT_WARN_SIZE,
};

#define MAX_RUN_IDS 64

static void usage_error(const char *what)
{
    fprintf(stderr, "ft-convert: %s\nTry 'ft-convert --help'.\n", what);
    exit(EXIT_USAGE);
}

/* The combination of options is sound, or exit with what is wrong and what to do. */
static void check_usage(const ft_convert_opts *o, int list, int info, int ninputs,
                        size_t nrun_ids, int top_given)
{
    int summary = o->format && strcmp(o->format, "summary") == 0;
    int filters = o->filter && ft_filter_active(o->filter);

    if (ninputs == 0)
        usage_error("no INPUT given (an output directory of functiontrace.record, a run "
                    "directory or a .ftrace file)");
    if (list && (o->output || nrun_ids || info || o->nmerge_inputs || o->format || filters))
        usage_error("--list lists the runs of INPUT and converts nothing: no -o, --run, "
                    "--info, --merge-runs, --format or filters");
    if (info && (o->output || o->format || filters))
        usage_error("--info prints what INPUT holds and converts nothing: no -o, --format "
                    "or filters");
    if (ninputs > 1 && !o->nmerge_inputs)
        usage_error("only one INPUT can be converted at a time (add --merge-runs to put "
                    "several runs on one timeline)");
    if (list && ninputs > 1)
        usage_error("--list takes one INPUT");
    if (nrun_ids > 1 && !o->nmerge_inputs)
        usage_error("--run names one run; to convert several onto one timeline, add "
                    "--merge-runs");
    if (top_given && !summary)
        usage_error("--top is for the summary: add --summary");
    if (o->filter && o->filter->has_from && o->filter->has_to &&
        o->filter->from_ns >= o->filter->to_ns)
        usage_error("--from must be earlier than --to");
    if (!list && !info && !o->output)
        usage_error("no OUTPUT given (-o FILE, or -o - for standard output)");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "run", required_argument, NULL, 'r' },
        { "list", no_argument, NULL, 'l' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        { "format", required_argument, NULL, 'f' },
        { "summary", no_argument, NULL, OPT_SUMMARY },
        { "top", required_argument, NULL, OPT_TOP },
        { "info", no_argument, NULL, OPT_INFO },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "pid", required_argument, NULL, OPT_PID },
        { "tid", required_argument, NULL, OPT_TID },
        { "min-duration", required_argument, NULL, OPT_MIN_DURATION },
        { "merge-runs", no_argument, NULL, OPT_MERGE },
        { "warn-size", required_argument, NULL, OPT_WARN_SIZE },
        { NULL, 0, NULL, 0 },
    };
    ft_convert_opts opts = { NULL, NULL, NULL };
    ft_convert_stats stats;
    ft_filter filter;
    ft_report rep;
    const char *run_ids[MAX_RUN_IDS];
    size_t nrun_ids = 0;
    uint64_t v;
    int quiet = 0, list = 0, info = 0, merge = 0, top_given = 0, c;

    memset(&filter, 0, sizeof filter);
    while ((c = getopt_long(argc, argv, "o:r:lqhf:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            opts.output = optarg;
            break;
        case 'r':
            if (nrun_ids == MAX_RUN_IDS)
                usage_error("too many --run options");
            run_ids[nrun_ids++] = optarg;
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
        case OPT_VERSION:
            printf("ft-convert %s (functiontrace), reads trace format versions %d to %d\n",
                   FT_CONVERT_VERSION, FT_FORMAT_VERSION_MIN, FT_FORMAT_VERSION);
            exit(EXIT_CLEAN);
        case 'f':
            if (strcmp(optarg, "firefox") && strcmp(optarg, "chrome") && strcmp(optarg, "summary")) {
                fprintf(stderr, "ft-convert: --format: no format '%s'; choose firefox, "
                        "chrome or summary\nTry 'ft-convert --help'.\n", optarg);
                exit(EXIT_USAGE);
            }
            opts.format = optarg;
            break;
        case OPT_SUMMARY:
            opts.format = "summary";
            break;
        case OPT_TOP:
            if (ft_cli_uint("--top", optarg, 1000000, &v))
                exit(EXIT_USAGE);
            opts.top = (unsigned)v;
            top_given = 1;
            break;
        case OPT_INFO:
            info = 1;
            break;
        case OPT_FROM:
            if (ft_cli_duration("--from", optarg, &filter.from_ns))
                exit(EXIT_USAGE);
            filter.has_from = 1;
            break;
        case OPT_TO:
            if (ft_cli_duration("--to", optarg, &filter.to_ns))
                exit(EXIT_USAGE);
            filter.has_to = 1;
            break;
        case OPT_PID:
        case OPT_TID: {
            int pid = c == OPT_PID;
            size_t *n = pid ? &filter.npids : &filter.ntids;
            if (ft_cli_uint(pid ? "--pid" : "--tid", optarg, UINT64_MAX, &v))
                exit(EXIT_USAGE);
            if (*n == FT_FILTER_MAX_IDS)
                usage_error(pid ? "too many --pid options" : "too many --tid options");
            (pid ? filter.pids : filter.tids)[(*n)++] = v;
            break;
        }
        case OPT_MIN_DURATION:
            if (ft_cli_duration("--min-duration", optarg, &filter.min_duration_ns))
                exit(EXIT_USAGE);
            break;
        case OPT_MERGE:
            merge = 1;
            break;
        case OPT_WARN_SIZE:
            if (ft_cli_uint("--warn-size", optarg, UINT64_MAX / 1000000, &v))
                exit(EXIT_USAGE);
            opts.warn_bytes = v * 1000000;
            break;
        default:
            fputs("Try 'ft-convert --help'.\n", stderr);
            exit(EXIT_USAGE);
        }
    }
    opts.filter = &filter;
    if (merge) {
        opts.merge_inputs = (const char *const *)argv + optind;
        opts.nmerge_inputs = (size_t)(argc - optind);
        opts.run_ids = run_ids;
        opts.nrun_ids = nrun_ids;
    }
    if (!opts.output && opts.format && strcmp(opts.format, "summary") == 0 && !list && !info)
        opts.output = "-";
    check_usage(&opts, list, info, argc - optind, nrun_ids, top_given);
    if (merge && opts.nmerge_inputs == 0)
        usage_error("--merge-runs needs at least one INPUT");
    opts.input = argv[optind];

    ft_report_init(&rep, stderr, quiet);
    if (list || info) {
        ft_convert_result res = list ? ft_convert_list(opts.input, stdout, &rep)
                                     : ft_convert_info(&opts, stdout, &rep);
        exit(res == FT_CONVERT_OK ? EXIT_CLEAN : res == FT_CONVERT_DAMAGED ? EXIT_DAMAGED
                                                                           : EXIT_FAILED);
    }
    /* A progress line only where a person watches it. */
    opts.progress = !quiet && isatty(STDERR_FILENO);
    switch (ft_convert(&opts, &rep, &stats)) {
    case FT_CONVERT_OK:
    case FT_CONVERT_DAMAGED:
        ft_report_note(&rep, "wrote %s: %u process%s, %u thread%s, %llu %s from %llu "
                       "events in %.2f s",
                       strcmp(opts.output, "-") ? opts.output : "standard output",
                       stats.processes, stats.processes == 1 ? "" : "es",
                       stats.threads, stats.threads == 1 ? "" : "s",
                       (unsigned long long)stats.samples,
                       opts.format && strcmp(opts.format, "chrome") == 0 ? "trace events"
                                                                         : "samples",
                       (unsigned long long)stats.events, stats.seconds);
        if (stats.folded)
            ft_report_note(&rep, "--min-duration folded %llu short calls into their callers",
                           (unsigned long long)stats.folded);
        if (rep.problems) {
            fprintf(stderr, "ft-convert: %lu problem%s in the input; the output holds "
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
