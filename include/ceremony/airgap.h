/*
 * airgap — is this machine off the network?
 *
 * Owns: listing the network interfaces that are up (other than loopback) and
 * the refusal to touch an HSM or a transcript while any is, unless the
 * operator said --allow-network (or CEREMONY_ALLOW_NETWORK=1, for test rigs);
 * the override is recorded in the transcript's ceremony.begin. Does not own:
 * anything else about the room.
 */
#ifndef CEREMONY_AIRGAP_H
#define CEREMONY_AIRGAP_H

#include <jansson.h>

/* The names of non-loopback interfaces that are up (a JSON array, new reference). */
int airgap_interfaces_up(json_t **out) __attribute__((warn_unused_result));

/*
 * 0 when no interface is up, or when allowed (then *override describes it:
 * {"interfaces": [...], "allowed_by": ...}; NULL when nothing was overridden).
 * CER_E_REFUSED naming the interfaces otherwise.
 */
int airgap_check(int allowed_by_option, int allowed_by_env, json_t **override)
	__attribute__((warn_unused_result));

struct ceremony_ctx;
/*
 * airgap_check with ctx's --allow-network and CEREMONY_ALLOW_NETWORK, and when an
 * override is used, a warning on stderr naming the interfaces (once per process),
 * whether or not a transcript records it: an override is never silent.
 *
 * Limit: the check sees the interfaces of the network namespace it runs in. A
 * process started in a private namespace (unshare -n, a container) sees only its
 * loopback while the machine may be on a network; the room's procedure (cables
 * out, radios off, the machine's own state checked by the IW) is what proves the
 * air gap, this check only catches the common mistake.
 */
int airgap_enforce(struct ceremony_ctx *ctx, json_t **override) __attribute__((warn_unused_result));

#endif
