/* ft_status.c — English text for ft_status codes.
 *
 * The texts are short and carry no context: callers prepend the file name, frame offset or
 * record offset themselves (e.g. "x.ftrace: offset 1234: corrupt data"). Nothing here
 * allocates or depends on locale. */
#include "ft_status.h"

const char *ft_status_str(ft_status st)
{
    switch (st) {
    case FT_OK: return "ok";
    case FT_END: return "end of data";
    case FT_ENOMEM: return "out of memory";
    case FT_EIO: return "I/O error";
    case FT_ETRUNC: return "truncated data";
    case FT_ECORRUPT: return "corrupt data";
    case FT_EFOREIGN: return "not a functiontrace trace";
    case FT_EVERSION: return "unsupported format version";
    case FT_EZSTD: return "zstd could not decompress the frame";
    }
    return "unknown status";
}
