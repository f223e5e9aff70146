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

#endif
