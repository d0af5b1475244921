/**
 * @file test_line.c  The line table: bindings, events, encoding, expiry
 */

#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"
#include "linefix.h"


static size_t event_count(const struct fixture *fx)
{
	return json_array_size(fx->events);
}


/* The data object of the newest event, checking its type */
static json_t *event_last(const struct fixture *fx, const char *type)
{
	json_t *env;

	env = json_array_get(fx->events, event_count(fx) - 1);
	assert_non_null(env);
	assert_string_equal(type,
			    json_string_value(json_object_get(env, "type")));

	return json_object_get(env, "data");
}


static const char *jstr(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	assert_non_null(v);
	assert_true(json_is_string(v));

	return json_string_value(v);
}


static void assert_jnull(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	assert_non_null(v);
	assert_true(json_is_null(v));
}


static int bind_line(struct fixture *fx, const char *id, const char *contact,
		     const char *src_ip, uint16_t src_port, uint32_t expires)
{
	struct line_binding b;
	struct sa src;

	assert_int_equal(0, sa_set_str(&src, src_ip, src_port));

	memset(&b, 0, sizeof(b));
	b.contact = contact;
	b.src = &src;
	b.tp = SIP_TRANSP_UDP;
	b.user_agent = "Grandstream HT802 1.0.51.2";
	b.expires = expires;

	return lines_bind(fx->lines, id, &b);
}


static int unbind_line(struct fixture *fx, const char *id,
		       const char *contact, const char *src_ip)
{
	struct sa src;

	assert_int_equal(0, sa_set_str(&src, src_ip, 5060));

	return lines_unbind(fx->lines, id, contact, &src, false);
}


static void test_line_bind(void **state)
{
	struct fixture *fx = *state;
	struct line *line;
	json_t *data;
	uint64_t t0 = tmr_jiffies();

	assert_null(lines_find(fx->lines, "100"));

	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5060",
				      "192.168.1.50", 5060, 3600));

	line = lines_find(fx->lines, "100");
	assert_non_null(line);
	assert_true(line->registered);
	assert_string_equal("sip:100@192.168.1.50:5060", line->contact);
	assert_string_equal("sip:100@192.168.1.50:5060", line->dial_uri);
	assert_string_equal("Grandstream HT802 1.0.51.2", line->user_agent);
	assert_int_equal(3600, line->expires);
	/* less the seconds since the bind, rounded up: more than one under
	   valgrind in an emulated arm chroot (scripts/test-arch) */
	assert_in_range(line_expires_left(line),
			3600 - (tmr_jiffies() - t0) / 1000 - 1, 3600);
	assert_true(line->registered_at > 0);
	assert_int_equal(line->registered_at, line->last_register_at);
	assert_true(tmr_isrunning(&line->tmr));

	assert_int_equal(1, event_count(fx));
	data = event_last(fx, "line.registered");
	assert_string_equal("100", jstr(data, "line"));
	assert_string_equal("sip:100@192.168.1.50:5060",
			    jstr(data, "contact"));
	assert_string_equal("192.168.1.50:5060", jstr(data, "source"));
	assert_string_equal("Grandstream HT802 1.0.51.2",
			    jstr(data, "user_agent"));
	/* counted when the event is made, after the store's write */
	assert_in_range(json_integer_value(json_object_get(data, "expires_s")),
			3600 - (tmr_jiffies() - t0) / 1000 - 1, 3600);

	assert_int_equal(1, lines_registered_count(fx->lines));
	assert_ptr_equal(line, lines_first_registered(fx->lines));
}


static void test_line_refresh(void **state)
{
	struct fixture *fx = *state;
	struct line *line;
	uint64_t registered_at, t0;

	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5060",
				      "192.168.1.50", 5060, 3600));
	line = lines_find(fx->lines, "100");
	registered_at = line->registered_at;
	t0 = tmr_jiffies();

	/* same contact, same source: no event, new expiry */
	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5060",
				      "192.168.1.50", 5060, 1800));

	assert_int_equal(1, event_count(fx));
	assert_ptr_equal(line, lines_find(fx->lines, "100"));
	assert_int_equal(1800, line->expires);
	assert_in_range(line_expires_left(line),
			1800 - (tmr_jiffies() - t0) / 1000 - 1, 1800);
	assert_int_equal(registered_at, line->registered_at);
	assert_true(line->last_register_at >= registered_at);
}


static void test_line_moves(void **state)
{
	struct fixture *fx = *state;
	json_t *data;

	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5060",
				      "192.168.1.50", 5060, 3600));

	/* a new contact from the same address (the ATA rebooted) */
	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5062",
				      "192.168.1.50", 5062, 3600));
	assert_int_equal(2, event_count(fx));
	data = event_last(fx, "line.registered");
	assert_string_equal("sip:100@192.168.1.50:5062",
			    jstr(data, "contact"));
	assert_string_equal("192.168.1.50:5062", jstr(data, "source"));

	/* same contact from another source port (NAT rebinding) */
	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5062",
				      "192.168.1.50", 40000, 3600));
	assert_int_equal(3, event_count(fx));
	data = event_last(fx, "line.registered");
	assert_string_equal("192.168.1.50:40000", jstr(data, "source"));

	/* the ATA got a new address: once its binding is gone, it may */
	assert_int_equal(0, unbind_line(fx, "100", NULL, "192.168.1.50"));
	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.77:5060",
				      "192.168.1.77", 5060, 3600));
	data = event_last(fx, "line.registered");
	assert_string_equal("192.168.1.77:5060", jstr(data, "source"));

	assert_int_equal(1, lines_registered_count(fx->lines));
}


/* A live binding belongs to the address it registered from */
static void test_line_takeover(void **state)
{
	struct fixture *fx = *state;
	struct line_binding b;
	struct line *line;
	struct sa src;
	json_t *data;
	size_t n;

	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5060",
				      "192.168.1.50", 5060, 3600));
	line = lines_find(fx->lines, "100");
	assert_int_equal(1, event_count(fx));

	/* REGISTER from another host: refused, published, line unchanged */
	assert_int_equal(EPERM, bind_line(fx, "100",
					  "sip:100@192.168.1.66:5060",
					  "192.168.1.66", 5060, 3600));
	assert_int_equal(2, event_count(fx));
	data = event_last(fx, "line.takeover_refused");
	assert_string_equal("100", jstr(data, "line"));
	assert_string_equal("192.168.1.66:5060", jstr(data, "source"));
	assert_int_equal(2, json_object_size(data));
	assert_string_equal("sip:100@192.168.1.50:5060", line->contact);
	assert_string_equal("sip:100@192.168.1.50:5060", line->dial_uri);
	assert_true(line->registered);
	assert_int_equal(1, lines_refused_count(fx->lines));

	/* again at once, and an unregister from it: counted, not said */
	assert_int_equal(EPERM, bind_line(fx, "100",
					  "sip:100@192.168.1.66:5060",
					  "192.168.1.66", 5070, 3600));
	assert_int_equal(EPERM, unbind_line(fx, "100", NULL,
					    "192.168.1.66"));
	assert_int_equal(EPERM, unbind_line(fx, "100",
					    "sip:100@192.168.1.50:5060",
					    "192.168.1.66"));
	assert_int_equal(2, event_count(fx));
	assert_int_equal(4, lines_refused_count(fx->lines));
	assert_true(line->registered);

	/* another address is said at once */
	assert_int_equal(EPERM, bind_line(fx, "100", "sip:100@10.9.9.9",
					  "10.9.9.9", 5060, 3600));
	assert_int_equal(3, event_count(fx));
	data = event_last(fx, "line.takeover_refused");
	assert_string_equal("10.9.9.9:5060", jstr(data, "source"));

	/* credentials prove the owner wherever it is */
	n = event_count(fx);
	assert_int_equal(0, sa_set_str(&src, "192.168.1.77", 5060));
	memset(&b, 0, sizeof(b));
	b.contact = "sip:100@192.168.1.77:5060";
	b.src = &src;
	b.tp = SIP_TRANSP_UDP;
	b.expires = 3600;
	b.authenticated = true;
	assert_int_equal(0, lines_bind(fx->lines, "100", &b));
	assert_int_equal(n + 1, event_count(fx));
	(void)event_last(fx, "line.registered");
	assert_string_equal("sip:100@192.168.1.77:5060", line->contact);

	/* an unregistered line is anyone's */
	assert_int_equal(0, unbind_line(fx, "100", NULL, "192.168.1.77"));
	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.66:5060",
				      "192.168.1.66", 5060, 3600));
	assert_true(line->registered);
	assert_string_equal("sip:100@192.168.1.66:5060", line->contact);

	assert_int_equal(EINVAL, lines_unbind(fx->lines, "100", NULL, NULL,
					      false));
}


static void test_line_dial_uri(void **state)
{
	struct fixture *fx = *state;
	struct line *line;

	/* Contact without a port, source on 5060: reachable as sent */
	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50",
				      "192.168.1.50", 5060, 60));
	line = lines_find(fx->lines, "100");
	assert_string_equal("sip:100@192.168.1.50", line->dial_uri);

	/* behind NAT: host:port from the source, the rest as sent */
	assert_int_equal(0, bind_line(fx, "101",
				      "sip:101@192.168.1.50:5062;transport=udp",
				 "203.0.113.9", 61000, 60));
	line = lines_find(fx->lines, "101");
	assert_string_equal("sip:101@192.168.1.50:5062;transport=udp",
			    line->contact);
	assert_string_equal("sip:101@203.0.113.9:61000;transport=udp",
			    line->dial_uri);

	/* same address, other port */
	assert_int_equal(0, bind_line(fx, "102", "sip:102@10.0.0.5:5060",
				      "10.0.0.5", 5070, 60));
	line = lines_find(fx->lines, "102");
	assert_string_equal("sip:102@10.0.0.5:5070", line->dial_uri);

	/* a host name cannot be compared: the source wins */
	assert_int_equal(0, bind_line(fx, "103", "sip:103@ata.local",
				      "10.0.0.6", 5060, 60));
	line = lines_find(fx->lines, "103");
	assert_string_equal("sip:103@10.0.0.6:5060", line->dial_uri);

	/* IPv6 source */
	assert_int_equal(0, bind_line(fx, "104", "sip:104@[fd00::9]:5060",
				      "fd00::10", 5060, 60));
	line = lines_find(fx->lines, "104");
	assert_string_equal("sip:104@[fd00::10]:5060", line->dial_uri);

	assert_int_equal(0, bind_line(fx, "105", "sip:105@[fd00::9]:5060",
				      "fd00::9", 5060, 60));
	line = lines_find(fx->lines, "105");
	assert_string_equal("sip:105@[fd00::9]:5060", line->dial_uri);

	/* maddr is never followed: the INVITE goes to the phone */
	assert_int_equal(0, bind_line(fx, "106",
				      "sip:106@10.0.0.7:5060;maddr=127.0.0.3",
				      "10.0.0.7", 5060, 60));
	line = lines_find(fx->lines, "106");
	assert_string_equal("sip:106@10.0.0.7:5060;maddr=127.0.0.3",
			    line->contact);
	assert_string_equal("sip:106@10.0.0.7:5060", line->dial_uri);

	assert_int_equal(0, bind_line(fx, "107", "sip:107@192.0.2.1:5080"
				      ";transport=udp;MADDR=127.0.0.3;lr",
				      "10.0.0.8", 5062, 60));
	line = lines_find(fx->lines, "107");
	assert_string_equal("sip:107@10.0.0.8:5062;transport=udp;lr",
			    line->dial_uri);

	/* nor are URI headers (a Route there would route elsewhere) */
	assert_int_equal(0, bind_line(fx, "108", "sip:108@10.0.0.9"
				      "?Route=%3Csip:192.0.2.9%3E",
				      "10.0.0.9", 5060, 60));
	line = lines_find(fx->lines, "108");
	assert_string_equal("sip:108@10.0.0.9", line->dial_uri);
}


static void test_line_unbind(void **state)
{
	struct fixture *fx = *state;
	struct line *line;
	json_t *data;

	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5060",
				      "192.168.1.50", 5060, 3600));
	line = lines_find(fx->lines, "100");

	/* not the current binding: nothing changes */
	assert_int_equal(0, unbind_line(fx, "100", "sip:100@192.168.1.99:5060",
					"192.168.1.50"));
	assert_true(line->registered);
	assert_true(tmr_isrunning(&line->tmr));
	assert_int_equal(1, event_count(fx));

	/* unknown line: nothing happens */
	assert_int_equal(0, unbind_line(fx, "999", NULL, "192.168.1.50"));
	assert_int_equal(1, event_count(fx));

	assert_int_equal(0, unbind_line(fx, "100", "sip:100@192.168.1.50:5060",
					"192.168.1.50"));
	assert_false(line->registered);
	assert_true(line->unregistered_at > 0);
	/* now it counts down to being forgotten (a day by default) */
	assert_true(tmr_isrunning(&line->tmr));
	assert_true(tmr_get_expire(&line->tmr) > 86000 * 1000);
	assert_int_equal(0, line_expires_left(line));
	assert_int_equal(2, event_count(fx));
	data = event_last(fx, "line.unregistered");
	assert_string_equal("100", jstr(data, "line"));
	assert_string_equal("unregister", jstr(data, "reason"));

	/* the line stays known */
	assert_ptr_equal(line, lines_find(fx->lines, "100"));
	assert_int_equal(0, lines_registered_count(fx->lines));
	assert_null(lines_first_registered(fx->lines));

	/* again: already unregistered, no second event */
	assert_int_equal(0, unbind_line(fx, "100", NULL, "192.168.1.50"));
	assert_int_equal(2, event_count(fx));

	/* a new REGISTER brings it back, as a fresh registration */
	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5060",
				      "192.168.1.50", 5060, 3600));
	assert_true(line->registered);
	assert_int_equal(3, event_count(fx));
	(void)event_last(fx, "line.registered");

	/* "Contact: *" removes whatever is bound */
	assert_int_equal(0, unbind_line(fx, "100", NULL, "192.168.1.50"));
	assert_false(line->registered);
	data = event_last(fx, "line.unregistered");
	assert_string_equal("unregister", jstr(data, "reason"));
}


static void test_line_table(void **state)
{
	struct fixture *fx = *state;
	struct le *le;
	const char *order[] = {"100", "101", "200"};
	size_t i = 0;

	assert_int_equal(0, bind_line(fx, "200", "sip:200@10.0.0.5", "10.0.0.5",
				      5060, 60));
	assert_int_equal(0, bind_line(fx, "101", "sip:101@10.0.0.5:5062",
				      "10.0.0.5", 5062, 60));
	assert_int_equal(0, bind_line(fx, "100", "sip:100@10.0.0.5", "10.0.0.5",
				      5060, 60));

	LIST_FOREACH(lines_list(fx->lines), le) {
		const struct line *line = le->data;

		assert_true(i < 3);
		assert_string_equal(order[i++], line->id);
	}
	assert_int_equal(3, i);

	assert_int_equal(3, lines_registered_count(fx->lines));
	assert_string_equal("100", lines_first_registered(fx->lines)->id);

	assert_int_equal(0, unbind_line(fx, "100", NULL, "10.0.0.5"));
	assert_int_equal(2, lines_registered_count(fx->lines));
	assert_string_equal("101", lines_first_registered(fx->lines)->id);
}


/* A table of three: a fourth line takes an unregistered line's place,
   or is refused when all three are registered */
static void test_line_bounds(void **state)
{
	struct fixture *fx = *state;
	struct lines_cfg cfg = {.max = 3, .keep_s = 3600};
	struct lines *lines;
	struct le *le;
	const char *order[] = {"100", "102", "103"};
	size_t i = 0;

	assert_int_equal(EINVAL, lines_alloc(&lines, fx->bus, NULL,
					     &(struct lines_cfg){0, 60}));

	mem_deref(fx->lines);
	assert_int_equal(0, lines_alloc(&fx->lines, fx->bus, NULL, &cfg));

	assert_int_equal(0, bind_line(fx, "100", "sip:100@10.0.0.5", "10.0.0.5",
				      5060, 60));
	assert_int_equal(0, bind_line(fx, "101", "sip:101@10.0.0.5:5062",
				      "10.0.0.5", 5062, 60));
	assert_int_equal(0, bind_line(fx, "102", "sip:102@10.0.0.6", "10.0.0.6",
				      5060, 60));
	assert_int_equal(3, event_count(fx));

	/* full, all registered: a new line is refused, no event */
	assert_int_equal(EOVERFLOW, bind_line(fx, "103", "sip:103@10.0.0.7",
					      "10.0.0.7", 5060, 60));
	assert_null(lines_find(fx->lines, "103"));
	assert_int_equal(1, lines_full_count(fx->lines));
	assert_int_equal(3, event_count(fx));

	/* the lines that are there keep working */
	assert_int_equal(0, bind_line(fx, "100", "sip:100@10.0.0.5", "10.0.0.5",
				      5060, 120));
	assert_int_equal(120, lines_find(fx->lines, "100")->expires);

	/* one unregisters: the next new line takes its place */
	assert_int_equal(0, unbind_line(fx, "101", NULL, "10.0.0.5"));
	assert_non_null(lines_find(fx->lines, "101"));
	assert_int_equal(0, bind_line(fx, "103", "sip:103@10.0.0.7",
				      "10.0.0.7", 5060, 60));
	assert_null(lines_find(fx->lines, "101"));
	assert_non_null(lines_find(fx->lines, "103"));
	assert_int_equal(3, list_count(lines_list(fx->lines)));

	LIST_FOREACH(lines_list(fx->lines), le) {
		const struct line *line = le->data;

		assert_true(i < 3);
		assert_string_equal(order[i++], line->id);
	}

	/* of two unregistered lines, the one unregistered longer goes */
	assert_int_equal(0, unbind_line(fx, "102", NULL, "10.0.0.6"));
	assert_int_equal(0, unbind_line(fx, "100", NULL, "10.0.0.5"));
	lines_find(fx->lines, "102")->unregistered_at -= 1000;
	assert_int_equal(0, bind_line(fx, "104", "sip:104@10.0.0.8",
				      "10.0.0.8", 5060, 60));
	assert_null(lines_find(fx->lines, "102"));
	assert_non_null(lines_find(fx->lines, "100"));
	assert_int_equal(1, lines_full_count(fx->lines));
}


static void stop_handler(void *arg)
{
	(void)arg;
	re_cancel();
}


/* An unregistered line is forgotten after httpctl_lines_keep */
static void test_line_forget(void **state)
{
	struct fixture *fx = *state;
	struct lines_cfg cfg = {.max = 8, .keep_s = 0};
	struct tmr stop;

	mem_deref(fx->lines);
	assert_int_equal(0, lines_alloc(&fx->lines, fx->bus, NULL, &cfg));

	assert_int_equal(0, bind_line(fx, "100", "sip:100@10.0.0.5", "10.0.0.5",
				      5060, 60));
	assert_int_equal(0, bind_line(fx, "101", "sip:101@10.0.0.5:5062",
				      "10.0.0.5", 5062, 60));
	assert_int_equal(0, unbind_line(fx, "100", NULL, "10.0.0.5"));
	assert_non_null(lines_find(fx->lines, "100"));

	/* keep 0: gone at the loop's next turn, before this timer */
	tmr_init(&stop);
	tmr_start(&stop, 20, stop_handler, NULL);
	assert_int_equal(0, re_main(NULL));
	tmr_cancel(&stop);

	assert_null(lines_find(fx->lines, "100"));
	assert_non_null(lines_find(fx->lines, "101"));
	assert_int_equal(1, list_count(lines_list(fx->lines)));
}


/* Many lines: each found by its id through the hash */
static void test_line_many(void **state)
{
	struct fixture *fx = *state;
	struct lines_cfg cfg = {.max = 2000, .keep_s = 60};
	const struct line *prev = NULL;
	struct le *le;
	char id[16], contact[64];
	int i;

	mem_deref(fx->lines);
	assert_int_equal(0, lines_alloc(&fx->lines, fx->bus, NULL, &cfg));

	for (i = 0; i < 2000; i++) {
		re_snprintf(id, sizeof(id), "%d", 7919 * i % 10007);
		re_snprintf(contact, sizeof(contact), "sip:%s@10.1.%d.%d",
			    id, i / 250, i % 250);
		assert_int_equal(0, bind_line(fx, id, contact, "10.0.0.5",
					      5060, 60));
	}

	assert_int_equal(EOVERFLOW, bind_line(fx, "x", "sip:x@10.0.0.1",
					      "10.0.0.5", 5060, 60));

	for (i = 0; i < 2000; i++) {
		const struct line *line;

		re_snprintf(id, sizeof(id), "%d", 7919 * i % 10007);
		line = lines_find(fx->lines, id);
		assert_non_null(line);
		assert_string_equal(id, line->id);
	}
	assert_null(lines_find(fx->lines, "10008"));

	LIST_FOREACH(lines_list(fx->lines), le) {
		const struct line *line = le->data;

		if (prev)
			assert_true(str_cmp(prev->id, line->id) < 0);
		prev = line;
	}
}


static void test_line_bind_args(void **state)
{
	struct fixture *fx = *state;
	struct line_binding b;
	struct sa src;

	assert_int_equal(0, sa_set_str(&src, "10.0.0.5", 5060));
	memset(&b, 0, sizeof(b));
	b.contact = "sip:100@10.0.0.5";
	b.src = &src;
	b.expires = 60;

	assert_int_equal(EINVAL, lines_bind(NULL, "100", &b));
	assert_int_equal(EINVAL, lines_bind(fx->lines, NULL, &b));
	assert_int_equal(EINVAL, lines_bind(fx->lines, "", &b));
	assert_int_equal(EINVAL, lines_bind(fx->lines, "100", NULL));

	b.expires = 0;
	assert_int_equal(EINVAL, lines_bind(fx->lines, "100", &b));

	/* a contact that is no URI binds nothing */
	b.expires = 60;
	b.contact = "garbage";
	assert_int_equal(EINVAL, lines_bind(fx->lines, "100", &b));

	assert_null(lines_find(fx->lines, "100"));
	assert_int_equal(0, event_count(fx));

	/* no User-Agent is an empty one */
	b.contact = "sip:100@10.0.0.5";
	assert_int_equal(0, lines_bind(fx->lines, "100", &b));
	assert_string_equal("", lines_find(fx->lines, "100")->user_agent);
}


static void assert_line_keys(const json_t *obj)
{
	static const char *keyv[] = {
		"id", "registered", "contact", "source", "user_agent",
		"expires_s", "state", "call", "registered_at",
		"last_register_at", "transport",
	};
	size_t i;

	for (i = 0; i < sizeof(keyv) / sizeof(keyv[0]); i++)
		assert_non_null(json_object_get(obj, keyv[i]));

	assert_int_equal(sizeof(keyv) / sizeof(keyv[0]),
			 json_object_size(obj));
}


static void test_line_encode(void **state)
{
	struct fixture *fx = *state;
	struct line never;
	struct line *line;
	json_t *obj;

	/* a line never registered (the table has none: build one) */
	memset(&never, 0, sizeof(never));
	never.id = "200";

	obj = line_encode(&never, LINE_IDLE, NULL);
	assert_non_null(obj);
	assert_line_keys(obj);
	assert_string_equal("200", jstr(obj, "id"));
	assert_true(json_is_false(json_object_get(obj, "registered")));
	assert_jnull(obj, "contact");
	assert_jnull(obj, "source");
	assert_jnull(obj, "user_agent");
	assert_jnull(obj, "call");
	assert_jnull(obj, "registered_at");
	assert_jnull(obj, "last_register_at");
	assert_jnull(obj, "transport");
	assert_int_equal(0, json_integer_value(
				 json_object_get(obj, "expires_s")));
	assert_string_equal("idle", jstr(obj, "state"));
	json_decref(obj);

	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5060",
				      "192.168.1.50", 5060, 3600));
	line = lines_find(fx->lines, "100");

	obj = line_encode(line, LINE_IN_CALL, "c_42");
	assert_non_null(obj);
	assert_line_keys(obj);
	assert_true(json_is_true(json_object_get(obj, "registered")));
	assert_string_equal("sip:100@192.168.1.50:5060",
			    jstr(obj, "contact"));
	assert_string_equal("192.168.1.50:5060", jstr(obj, "source"));
	assert_string_equal("Grandstream HT802 1.0.51.2",
			    jstr(obj, "user_agent"));
	assert_int_equal(3600, json_integer_value(
				 json_object_get(obj, "expires_s")));
	assert_string_equal("in_call", jstr(obj, "state"));
	assert_string_equal("c_42", jstr(obj, "call"));
	assert_string_equal("udp", jstr(obj, "transport"));
	assert_int_equal(24, strlen(jstr(obj, "registered_at")));
	assert_int_equal('Z', jstr(obj, "last_register_at")[23]);
	json_decref(obj);

	/* unregistered: the last binding stays visible, expiry 0 */
	assert_int_equal(0, unbind_line(fx, "100", NULL, "192.168.1.50"));
	obj = line_encode(line, LINE_IDLE, NULL);
	assert_true(json_is_false(json_object_get(obj, "registered")));
	assert_string_equal("sip:100@192.168.1.50:5060",
			    jstr(obj, "contact"));
	assert_int_equal(0, json_integer_value(
				 json_object_get(obj, "expires_s")));
	json_decref(obj);

	assert_null(line_encode(NULL, LINE_IDLE, NULL));

	assert_string_equal("idle", line_state_name(LINE_IDLE));
	assert_string_equal("ringing", line_state_name(LINE_RINGING));
	assert_string_equal("in_call", line_state_name(LINE_IN_CALL));
}


static void guard_handler(void *arg)
{
	bool *firedp = arg;

	*firedp = true;
	re_cancel();
}


static void test_line_expiry(void **state)
{
	struct fixture *fx = *state;
	struct line *line;
	struct tmr guard;
	bool guard_fired = false;
	json_t *data;

	assert_int_equal(0, bind_line(fx, "100", "sip:100@192.168.1.50:5060",
				      "192.168.1.50", 5060, 1));
	line = lines_find(fx->lines, "100");
	assert_int_equal(1, event_count(fx));

	/* the handler stops the loop when the event arrives; the guard
	 * fails the test if it never does */
	fx->cancel_on_unreg = true;
	tmr_init(&guard);
	tmr_start(&guard, 5000, guard_handler, &guard_fired);

	assert_int_equal(0, re_main(NULL));
	tmr_cancel(&guard);

	assert_false(guard_fired);
	assert_false(line->registered);
	assert_int_equal(0, line_expires_left(line));
	assert_int_equal(0, lines_registered_count(fx->lines));

	assert_int_equal(2, event_count(fx));
	data = event_last(fx, "line.unregistered");
	assert_string_equal("100", jstr(data, "line"));
	assert_string_equal("expired", jstr(data, "reason"));

	/* an unbind after expiry publishes nothing more */
	assert_int_equal(0, unbind_line(fx, "100", NULL, "192.168.1.50"));
	assert_int_equal(2, event_count(fx));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		LINEFIX_TEST(test_line_bind),
		LINEFIX_TEST(test_line_refresh),
		LINEFIX_TEST(test_line_moves),
		LINEFIX_TEST(test_line_takeover),
		LINEFIX_TEST(test_line_dial_uri),
		LINEFIX_TEST(test_line_unbind),
		LINEFIX_TEST(test_line_table),
		LINEFIX_TEST(test_line_bounds),
		LINEFIX_TEST(test_line_forget),
		LINEFIX_TEST(test_line_many),
		LINEFIX_TEST(test_line_bind_args),
		LINEFIX_TEST(test_line_encode),
		LINEFIX_TEST(test_line_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
