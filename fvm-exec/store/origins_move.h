/*
 * origins_move.h — a VM's origins carried by an export and judged by an import on
 * another host (fvm export, fvm import; issue 17, "Moving between hosts").
 *
 * The origins log (fvm/origins.h) names host objects by device and inode, which mean
 * nothing on another host. An export therefore carries, with each record, what the
 * exporting host's object was, and the import compares that with its own host:
 *
 *   "fvm-origins 2" then one line per record, "SUM RECORD\n", RECORD a core origins
 *   line (fvm_origin_format) and SUM one of
 *     sha256:HEX  the content of a regular file, or the target of a symlink, read at
 *                 export while the host object was still the one the VM copied
 *                 (originlog_matches);
 *     type        a directory or another object: its type is what is compared;
 *     changed     the exporting host's object was no longer the one copied (a
 *                 conflict there already): unknown, so a conflict here too.
 *
 * The import, for each record: when this host's object at the path has the record's
 * type and the same SUM, the record is rewritten with this host's identity (device,
 * inode, size, time), so it is no conflict, and a later change of this host's object
 * is one as for a local VM. Otherwise the foreign record is kept; it matches no object
 * here, so fvm info, fvm diff --conflicts and fvm commit (without --force) report the
 * path as a conflict. A text without the header line (an older fvm's export) is
 * records alone, kept as they are.
 *
 * The text travels in an image's config ("fvm.origins") and, for a layer tar (-o), as
 * the POSIX pax "comment" record of the tar's first entry, its root "./": a comment is
 * ignored by every pax reader (GNU tar, libarchive, Go's archive/tar and so umoci and
 * Docker, Python), and the root entry only gives the extraction directory the mode of
 * the VM's root. A pax global header was the other candidate; umoci 0.4.7 refuses one
 * ("unknown typeflag 'g'").
 */
#ifndef FVM_STORE_ORIGINS_MOVE_H
#define FVM_STORE_ORIGINS_MOVE_H

#include <stddef.h>

/* The text of VMDIR's origins (malloc'd), or NULL when it has no records or on failure
 * (reported). Hashes every copied host file that is still the one copied. */
char *origins_export_text(const char *vmdir);

/*
 * Writes the origins log of a new VM (its data area VMFD) from TEXT, judged against
 * this host (above); *CONFLICTS gets the number of records kept foreign. Malformed
 * lines are dropped with a warning. Returns 0 or -errno (reported).
 */
int origins_import_text(int vmfd, const char *text, size_t *conflicts);

#endif
