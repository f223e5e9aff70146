/*
 * The raw C_Sign rate of one EC key, the ceiling for issuance: a loop of
 * C_SignInit + C_Sign (CKM_ECDSA over a digest, as an issuer signs) on one
 * session for a fixed time. Talks to the module directly, through nothing of
 * ours, so the baseline does not move when our code does.
 *
 *   bench_sign MODULE TOKEN-LABEL KEY-LABEL PIN-FILE SECONDS DIGEST-LEN
 *
 * Prints "signatures seconds rate" on one line.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, CK_RV rv)
{
	fprintf(stderr, "bench_sign: %s failed: 0x%lx\n", what, (unsigned long)rv);
	return 1;
}

static int label_is(const CK_UTF8CHAR *padded, size_t size, const char *label)
{
	size_t n = strlen(label);
	if (n > size || memcmp(padded, label, n) != 0)
		return 0;
	for (size_t i = n; i < size; i++)
		if (padded[i] != ' ')
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slots[64], slot = 0;
	CK_ULONG nslots = 64, found = 0, siglen;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	CK_BYTE digest[64], sig[256];
	char pin[256];
	size_t pinlen;
	long n = 0;
	double t0, secs, limit;
	int have = 0;
	void *lib;
	FILE *pf;
	CK_RV rv;

	if (argc != 7) {
		fprintf(stderr, "usage: bench_sign MODULE TOKEN KEY PIN-FILE SECONDS DIGEST-LEN\n");
		return 2;
	}
	limit = atof(argv[5]);
	size_t dlen = (size_t)atoi(argv[6]);
	if (dlen == 0 || dlen > sizeof(digest))
		return 2;
	memset(digest, 0x5a, sizeof(digest));
	pf = fopen(argv[4], "r");
	if (pf == NULL)
		return die("fopen PIN file", 0);
	pinlen = fread(pin, 1, sizeof(pin) - 1, pf);
	fclose(pf);
	while (pinlen > 0 && (pin[pinlen - 1] == '\n' || pin[pinlen - 1] == '\r'))
		pinlen--;
	lib = dlopen(argv[1], RTLD_NOW);
	if (lib == NULL || (get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList")) == NULL)
		return die("dlopen", 0);
	if ((rv = get(&f)) != CKR_OK)
		return die("C_GetFunctionList", rv);
	if ((rv = f->C_Initialize(NULL)) != CKR_OK)
		return die("C_Initialize", rv);
	if ((rv = f->C_GetSlotList(CK_TRUE, slots, &nslots)) != CKR_OK)
		return die("C_GetSlotList", rv);
	for (CK_ULONG i = 0; i < nslots && !have; i++) {
		CK_TOKEN_INFO ti;
		if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    label_is(ti.label, sizeof(ti.label), argv[2])) {
			slot = slots[i];
			have = 1;
		}
	}
	if (!have)
		return die("finding the token", 0);
	if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)) !=
	    CKR_OK)
		return die("C_OpenSession", rv);
	if ((rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, pinlen)) != CKR_OK)
		return die("C_Login", rv);
	memset(pin, 0, sizeof(pin));
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
			       {CKA_LABEL, argv[3], strlen(argv[3])}};
	if ((rv = f->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK ||
	    (rv = f->C_FindObjects(s, &key, 1, &found)) != CKR_OK ||
	    (rv = f->C_FindObjectsFinal(s)) != CKR_OK || found != 1)
		return die("finding the key", rv);
	t0 = now();
	do {
		for (int i = 0; i < 16; i++, n++) {
			digest[0] = (CK_BYTE)n;
			siglen = sizeof(sig);
			if ((rv = f->C_SignInit(s, &mech, key)) != CKR_OK)
				return die("C_SignInit", rv);
			if ((rv = f->C_Sign(s, digest, dlen, sig, &siglen)) != CKR_OK)
				return die("C_Sign", rv);
		}
		secs = now() - t0;
	} while (secs < limit);
	printf("%ld %.3f %.1f\n", n, secs, (double)n / secs);
	(void)f->C_Logout(s);
	(void)f->C_CloseSession(s);
	(void)f->C_Finalize(NULL);
	return 0;
}
