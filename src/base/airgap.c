#include <ifaddrs.h>
#include <stdio.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/airgap.h"
#include "ceremony/context.h"
#include "ceremony/err.h"

int airgap_interfaces_up(json_t **out)
{
	struct ifaddrs *all = NULL;
	json_t *names = json_array();

	*out = NULL;
	if (names == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (getifaddrs(&all) != 0) {
		json_decref(names);
		return cer_err(CER_E_INTERNAL, "cannot list the network interfaces");
	}
	for (struct ifaddrs *i = all; i != NULL; i = i->ifa_next) {
		int known = 0;
		size_t k;
		json_t *n;
		if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) || i->ifa_name == NULL)
			continue;
		json_array_foreach(names, k, n) known |= strcmp(json_string_value(n), i->ifa_name) == 0;
		if (!known)
			json_array_append_new(names, json_string(i->ifa_name));
	}
	freeifaddrs(all);
	*out = names;
	return 0;
}

int airgap_check(int allowed_by_option, int allowed_by_env, json_t **override)
{
	json_t *up = NULL, *n;
	char list[256] = "";
	size_t k, used = 0;
	int r;

	*override = NULL;
	if ((r = airgap_interfaces_up(&up)) != 0)
		return r;
	if (json_array_size(up) == 0) {
		json_decref(up);
		return 0;
	}
	if (allowed_by_option || allowed_by_env) {
		*override = json_pack("{s:o, s:s}", "interfaces", up, "allowed_by",
				      allowed_by_option ? "--allow-network" : "CEREMONY_ALLOW_NETWORK=1");
		return *override == NULL ? cer_err(CER_E_NOMEM, "out of memory") : 0;
	}
	json_array_foreach(up, k, n)
	{
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", k > 0 ? ", " : "",
				 json_string_value(n));
		if (w < 0 || (size_t)w >= sizeof(list) - used)
			break;
		used += (size_t)w;
	}
	json_decref(up);
	/* DESIGN.md "Air gap": a root key ceremony happens off the network. */
	return cer_err(CER_E_REFUSED,
		       "network interface%s up (%s): the ceremony machine must be off the network; "
		       "take them down, or give --allow-network (recorded). Nothing was done",
		       k > 1 ? "s" : "", list);
}

int airgap_enforce(struct ceremony_ctx *ctx, json_t **override)
{
	json_t *n;
	size_t k;
	int r;

	if ((r = airgap_check(ctx->allow_network, ctx->env_allow_network, override)) != 0)
		return r;
	if (*override == NULL || ctx->airgap_warned)
		return 0;
	ctx->airgap_warned = 1;
	/* Not an error, so not through cer_err: the command goes on, and says so every time. */
	fprintf(stderr, "ceremony: WARNING: the air gap is overridden (%s): network interface%s up:",
		json_string_value(json_object_get(*override, "allowed_by")),
		json_array_size(json_object_get(*override, "interfaces")) > 1 ? "s" : "");
	json_array_foreach(json_object_get(*override, "interfaces"), k, n)
		fprintf(stderr, "%s %s", k > 0 ? "," : "", json_string_value(n));
	fprintf(stderr, "; a transcript records it, a command without one does not\n");
	return 0;
}
