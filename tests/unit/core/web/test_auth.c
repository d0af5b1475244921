/**
 * @file test_auth.c  Bearer tokens, origins and the token file
 */

#include "unit.h"
#include <unistd.h>
#include <sys/stat.h>
#include "sipphone.h"


static void bearer_accepts_only_configured_tokens(void **state)
{
	struct auth *auth = NULL;
	(void)state;

	assert_int_equal(0, auth_alloc(&auth));
	assert_int_equal(0, auth_add_token(auth, "s3cret-token"));
	assert_int_equal(0, auth_add_token(auth, "second"));

	assert_true(auth_bearer_ok(auth, "Bearer s3cret-token"));
	assert_true(auth_bearer_ok(auth, "bearer second"));
	assert_true(auth_bearer_ok(auth, "Bearer   second  "));
	assert_true(auth_bearer_ok(auth, "\tBearer\tsecond\t"));

	assert_false(auth_bearer_ok(auth, NULL));
	assert_false(auth_bearer_ok(auth, ""));
	assert_false(auth_bearer_ok(auth, "Bearer"));
	assert_false(auth_bearer_ok(auth, "Bearer \t "));
	assert_false(auth_bearer_ok(auth, "Bearers3cret-token"));
	assert_false(auth_bearer_ok(auth, "Bearer s3cret-toke"));
	assert_false(auth_bearer_ok(auth, "Bearer s3cret-tokenX"));
	assert_false(auth_bearer_ok(auth, "Basic s3cret-token"));
	assert_false(auth_bearer_ok(auth, "s3cret-token"));
	assert_false(auth_bearer_ok(auth, "Bearer S3CRET-TOKEN"));

	mem_deref(auth);
}


static void bearer_fails_without_tokens(void **state)
{
	struct auth *auth = NULL;
	(void)state;

	assert_int_equal(0, auth_alloc(&auth));
	assert_int_equal(0, auth_token_count(auth));
	assert_false(auth_bearer_ok(auth, "Bearer "));
	assert_false(auth_bearer_ok(auth, "Bearer x"));
	assert_int_equal(EINVAL, auth_add_token(auth, ""));

	mem_deref(auth);
}


static void origins(void **state)
{
	struct auth *auth = NULL;
	(void)state;

	assert_int_equal(0, auth_alloc(&auth));
	assert_int_equal(0, auth_add_origin(auth, "https://app.example"));

	/* not a browser */
	assert_true(auth_origin_ok(auth, NULL, "pi:8000"));
	/* our own page */
	assert_true(auth_origin_ok(auth, "http://pi:8000", "pi:8000"));
	assert_true(auth_origin_ok(auth, "https://pi:8000", "pi:8000"));
	/* configured */
	assert_true(auth_origin_ok(auth, "https://app.example", "pi:8000"));
	assert_true(auth_origin_listed(auth, "https://app.example"));

	assert_false(auth_origin_ok(auth, "http://evil.example", "pi:8000"));
	assert_false(auth_origin_ok(auth, "http://pi:8001", "pi:8000"));
	assert_false(auth_origin_ok(auth, "null", "pi:8000"));
	assert_false(auth_origin_ok(auth, "http://pi:8000", NULL));
	assert_false(auth_origin_ok(auth, "ftp://pi:8000", "pi:8000"));
	assert_false(auth_origin_listed(auth, "http://pi:8000"));

	mem_deref(auth);
}


static void token_file_is_made_once_with_mode_0600(void **state)
{
	char dir[] = "/tmp/sipphone-auth-XXXXXX", path[64];
	struct auth *a1 = NULL, *a2 = NULL;
	char *tok = NULL, *tok2 = NULL, hdr[128];
	struct stat st;
	(void)state;

	assert_non_null(mkdtemp(dir));
	re_snprintf(path, sizeof(path), "%s/token", dir);

	assert_int_equal(0, auth_alloc(&a1));
	assert_int_equal(0, auth_token_load(a1, dir, &tok));
	assert_non_null(tok);
	assert_true(strlen(tok) >= 32);
	assert_null(strpbrk(tok, "+/= \n"));

	assert_int_equal(0, stat(path, &st));
	assert_int_equal(0600, st.st_mode & 0777);

	re_snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	assert_true(auth_bearer_ok(a1, hdr));

	/* second start: same token, not shown again */
	assert_int_equal(0, auth_alloc(&a2));
	assert_int_equal(0, auth_token_load(a2, dir, &tok2));
	assert_null(tok2);
	assert_true(auth_bearer_ok(a2, hdr));

	unlink(path);
	rmdir(dir);
	mem_deref(tok);
	mem_deref(a1);
	mem_deref(a2);
}


static void token_file_in_missing_dir_fails(void **state)
{
	struct auth *auth = NULL;
	char *tok = NULL;
	(void)state;

	assert_int_equal(0, auth_alloc(&auth));
	assert_int_equal(ENOENT, auth_token_load(auth, "/nonexistent/dir",
						 &tok));
	assert_null(tok);
	assert_int_equal(0, auth_token_count(auth));

	mem_deref(auth);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bearer_accepts_only_configured_tokens),
		cmocka_unit_test(bearer_fails_without_tokens),
		cmocka_unit_test(origins),
		cmocka_unit_test(token_file_is_made_once_with_mode_0600),
		cmocka_unit_test(token_file_in_missing_dir_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
