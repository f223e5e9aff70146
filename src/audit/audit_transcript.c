/* audit_transcript: the offline verdict on one transcript (chain, seal, replay, countersignatures, quorum, Argon2id cost); never an HSM. */
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/audit_transcript.h"
#include "ceremony/countersig.h"
#include "ceremony/pem.h"
#include "ceremony/quorum.h"
#include "ceremony/readaloud.h"
#include "ceremony/replay.h"
#include "ceremony/transcript.h"

int audit_transcript_verify(const char *transcript, const struct archive_view *view,
			    const char *root_path, unsigned flags,
			    const char *test_cost_allowed, const char *registry, FILE *out)
{
	struct transcript_report rep;
	struct replay_report rr;
	X509 *root = NULL;
	int r;

	if (root_path != NULL && (r = pem_load_cert(root_path, &root)) != 0)
		return r;
	fprintf(out, "Transcript %s\n", transcript);
	r = transcript_verify_view(transcript, view, root, flags, out, &rep);
	if (r == 0)
		r = replay_transcript_history(transcript, view, root, NULL, out, &rr);
	if (r == 0)
		r = countersig_verify_transcript(transcript, root, registry, out);
	if (r == 0)
		r = quorum_verify_transcript(transcript, out); /* docs/quorum.md */
	if (r == 0)
		r = transcript_test_cost_check(transcript, &rep, test_cost_allowed, out);
	if (r == 0) {
		fprintf(out, "Replayed: %ld certificates, %ld CRLs; %ld records' files not present\n",
			rr.certificates, rr.crls, rr.not_present);
		fprintf(out, "Chain intact: %ld records; %ld outputs match, %ld not present",
			rep.records, rep.outputs_checked, rep.outputs_missing);
		if (rep.outputs_outside > 0)
			fprintf(out, ", %ld outside the archive (not followed)", rep.outputs_outside);
		fprintf(out, "\n");
		if (rep.sealed && rep.anchored)
			fprintf(out, "Seal verified: signed by %s, whose certificate chains to the "
				     "given root\n",
				rep.signer);
		else if (rep.sealed)
			fprintf(out, "Seal UNANCHORED: signed by %s, a key the transcript itself "
				     "records; accepted only because of --allow-unanchored\n",
				rep.signer);
		else
			fprintf(out, "NOT SEALED (accepted because of --allow-unsealed)\n");
		readaloud_print(out, "head sha256", rep.head, 32);
		fprintf(out, "Verdict: OK%s\n", rep.sealed && !rep.anchored ? " (unanchored)" : "");
	}
	X509_free(root);
	return r;
}
