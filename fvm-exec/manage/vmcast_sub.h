/*
 * vmcast_sub.h — a VM's VMcast subscription (fvm subscribe, fvm pull; issue 18), as
 * the other commands see it: its control area's vmcast/ directory.
 *
 *   ctl/NAME/vmcast/keys/ID.pub the trusted public keys (minisign's format), by key ID
 *   ctl/NAME/vmcast/state      "KEY VALUE" lines: url (http://, https://, file://), sequence, version, feed (sha256 of the
 *                              last feed accepted), pulled (time), etag, modified, and
 *                              one "layer BLOBHEX LAYERID" per layer of the version the
 *                              VM is at, bottom first
 *   ctl/NAME/vmcast/feed.xml   the last feed accepted, and its feed.xml.minisig (a 304
 *                              Not Modified reuses them)
 *   ctl/NAME/vmcast/conflicts  the files the last switch's new layers change that the
 *                              VM's upper/ changed too (its own stay on top), one a line,
 *                              written when the switch is applied (store/layer_switch.c)
 *   ctl/NAME/switch            a switch to the version pulled, waiting for the VM's last
 *                              process to end (store/layers.h)
 *   ctl/NAME/vmcast/blobs/     blobs being downloaded (HEX.part) or verified, removed
 *                              once their layers are made
 *
 * Rules: only fvm writes these (the control area is never visible in a VM); every file
 * is replaced whole (replace.h).
 */
#ifndef FVM_MANAGE_VMCAST_SUB_H
#define FVM_MANAGE_VMCAST_SUB_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Prints VM VMDIR's subscription (URL, version, whether its switch waits, sequence,
 * keys, last pull, the conflicts of the last switch, listed) on OUT as fvm info's
 * "vmcast:" lines, or with JSON as a "vmcast":{...}, member (its comma after it).
 * Nothing when it has none.
 */
void vmcast_info_print(const char *vmdir, FILE *out, bool json);

#endif
