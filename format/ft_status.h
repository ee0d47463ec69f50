/* ft_status.h — the one status type of format/ and convert/.
 *
 * Every fallible function in format/ and convert/ returns an ft_status. FT_OK is 0 so that
 * `if (st) goto out;` reads naturally. ft_status_str() gives a short English text for
 * messages; callers add the file name and offset themselves. */
#ifndef FT_STATUS_H
#define FT_STATUS_H

typedef enum ft_status {
    FT_OK = 0,
    FT_END,         /* no more records / frames: not an error */
    FT_ENOMEM,      /* an allocation failed */
    FT_EIO,         /* read/write/open failed; errno is set */
    FT_ETRUNC,      /* input ends in the middle of a value, record or frame */
    FT_ECORRUPT,    /* bytes that cannot be what the format says */
    FT_EFOREIGN,    /* not a functiontrace trace (no signature frame) */
    FT_EVERSION,    /* a format version this build does not read */
    FT_EZSTD,       /* zstd refused the frame */
} ft_status;

/* Static text for a status, never NULL. */
const char *ft_status_str(ft_status st);

#endif
