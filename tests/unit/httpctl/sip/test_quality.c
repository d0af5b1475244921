/**
 * @file test_quality.c  Call quality: the E-model's MOS, RTCP figures,
 *                       reading a stream, the API object
 *
 * baresip's call, audio and stream functions are stood in for here by a
 * fake stream whose figures each test sets.
 */

#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"


/* The fake stream behind every call of these tests */
static struct {
	bool present;
	struct rtcp_stats rs;
	uint32_t rx, tx, rx_err;
} fake;

static int fake_obj;   /* its address stands for call, audio, stream */


struct audio *call_audio(const struct call *call)
{
	return call ? (struct audio *)&fake_obj : NULL;
}


struct stream *audio_strm(const struct audio *au)
{
	return au && fake.present ? (struct stream *)&fake_obj : NULL;
}


const struct rtcp_stats *stream_rtcp_stats(const struct stream *strm)
{
	return strm ? &fake.rs : NULL;
}


uint32_t stream_metric_get_rx_n_packets(const struct stream *strm)
{
	return strm ? fake.rx : 0;
}


uint32_t stream_metric_get_tx_n_packets(const struct stream *strm)
{
	return strm ? fake.tx : 0;
}


uint32_t stream_metric_get_rx_n_err(const struct stream *strm)
{
	return strm ? fake.rx_err : 0;
}


static void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.present = true;
}


static double distance(double a, double b)
{
	return a > b ? a - b : b - a;
}


#define assert_near(want, got, tol) \
	assert_true(distance((want), (got)) <= (tol))


static void mos_of_a_clean_call_is_g711s_best(void **state)
{
	(void)state;

	/* R = 93.2 - Id(40 ms) = 92.24 */
	assert_near(92.24, quality_r_factor(0, 0, 0), 0.001);
	assert_near(4.39, quality_mos(0, 0, 0), 0.005);
}


static void mos_falls_with_loss(void **state)
{
	static const struct {
		double loss;
		double mos;
	} v[] = {
		{  1, 3.792},
		{  2, 3.207},
		{  5, 2.121},
		{ 10, 1.445},
		{ 20, 1.103},
	};
	double prev = 4.5;
	size_t i;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		double mos = quality_mos(v[i].loss, 0, 0);

		assert_near(v[i].mos, mos, 0.001);
		assert_true(mos < prev);
		prev = mos;
	}

	/* Ie_eff = 95 Ppl / (Ppl + 4.3) */
	assert_near(93.2 - 0.96 - 95.0 * 10 / 14.3,
		    quality_r_factor(10, 0, 0), 0.001);
}


static void mos_falls_with_jitter_and_delay(void **state)
{
	(void)state;

	/* jitter counts twice, as a jitter buffer; a round trip half */
	assert_near(4.369, quality_mos(0, 20, 0), 0.001);
	assert_near(4.044, quality_mos(0, 100, 0), 0.001);
	assert_near(4.266, quality_mos(0, 0, 300), 0.001);
	assert_near(quality_r_factor(0, 50, 0), quality_r_factor(0, 0, 200),
		    1e-9);

	/* past 177.3 ms one way the delay costs much more */
	assert_near(2.081, quality_mos(0, 0, 1000), 0.001);
	assert_true(quality_mos(0, 0, 300) - quality_mos(0, 0, 400) >
		    quality_mos(0, 0, 100) - quality_mos(0, 0, 200));
}


static void mos_stays_within_its_scale(void **state)
{
	(void)state;

	assert_near(1.0, quality_mos(100, 0, 0), 1e-9);
	assert_near(1.0, quality_mos(100, 1000, 5000), 1e-9);
	assert_near(1.0, quality_mos_of_r(-10), 1e-9);
	assert_near(1.0, quality_mos_of_r(3), 1e-9);
	assert_near(4.5, quality_mos_of_r(100), 1e-9);
	assert_near(4.5, quality_mos_of_r(120), 1e-9);

	/* out-of-range inputs are taken as the nearest sane value */
	assert_near(quality_mos(0, 0, 0), quality_mos(-5, -1, -100), 1e-9);
	assert_near(quality_mos(100, 0, 0), quality_mos(150, 0, 0), 1e-9);
}


static void figures_from_rtcp(void **state)
{
	struct rtcp_stats rs;
	struct quality q;
	(void)state;

	memset(&rs, 0, sizeof(rs));
	rs.rx.sent = 450;         /* received */
	rs.rx.lost = 50;
	rs.rx.jit = 2500;         /* us */
	rs.tx.sent = 500;
	rs.tx.lost = 5;
	rs.tx.jit = 800;
	rs.rtt = 1200;

	quality_set(&q, &rs, 600, 610, 2);

	assert_int_equal(600, q.rx_packets);
	assert_int_equal(610, q.tx_packets);
	assert_int_equal(2, q.rx_errors);
	assert_true(q.rtcp);
	assert_int_equal(50, q.lost);
	assert_near(10.0, q.loss_pct, 1e-9);        /* 50 of 500 */
	assert_near(2.5, q.jitter_ms, 1e-9);
	assert_int_equal(5, q.tx_lost);
	assert_near(1.0, q.tx_loss_pct, 1e-9);      /* 5 of 500 */
	assert_near(0.8, q.tx_jitter_ms, 1e-9);
	assert_near(1.2, q.rtt_ms, 1e-9);

	/* the worse direction: 10 % loss, 2.5 ms jitter */
	assert_near(quality_mos(10, 2.5, 1.2), q.mos, 1e-9);

	/* the phone's view can be the worse one */
	rs.tx.lost = 100;
	quality_set(&q, &rs, 600, 610, 0);
	assert_near(quality_mos(20, 2.5, 1.2), q.mos, 1e-9);
}


static void before_any_report_loss_is_unknown(void **state)
{
	struct rtcp_stats rs;
	struct quality q;
	(void)state;

	memset(&rs, 0, sizeof(rs));
	quality_set(&q, &rs, 120, 130, 0);
	assert_false(q.rtcp);
	assert_int_equal(120, q.rx_packets);
	assert_int_equal(130, q.tx_packets);
	assert_int_equal(0, q.lost);
	assert_near(0, q.mos, 1e-9);

	quality_set(&q, NULL, 1, 2, 3);
	assert_false(q.rtcp);
	assert_int_equal(3, q.rx_errors);

	/* nothing happens without somewhere to put it */
	quality_set(NULL, &rs, 1, 2, 3);
}


static void duplicates_are_no_negative_loss(void **state)
{
	struct rtcp_stats rs;
	struct quality q;
	(void)state;

	memset(&rs, 0, sizeof(rs));
	rs.rx.sent = 502;
	rs.rx.lost = -2;
	rs.tx.sent = 0;
	rs.tx.lost = -1;

	quality_set(&q, &rs, 502, 0, 0);
	assert_true(q.rtcp);
	assert_int_equal(0, q.lost);
	assert_near(0, q.loss_pct, 1e-9);
	assert_int_equal(0, q.tx_lost);
	assert_near(0, q.tx_loss_pct, 1e-9);   /* nothing sent: no ratio */
	assert_near(4.39, q.mos, 0.005);
}


static void read_from_the_calls_stream(void **state)
{
	struct call *call = (struct call *)&fake_obj;
	struct quality q;
	(void)state;

	fake_reset();
	fake.rx = 1000;
	fake.tx = 1001;
	fake.rx_err = 1;
	fake.rs.rx.sent = 900;
	fake.rs.rx.lost = 100;
	fake.rs.rx.jit = 1000;
	fake.rs.tx.sent = 950;

	assert_int_equal(0, quality_read(&q, call));
	assert_int_equal(1000, q.rx_packets);
	assert_int_equal(1001, q.tx_packets);
	assert_int_equal(1, q.rx_errors);
	assert_int_equal(100, q.lost);
	assert_near(10.0, q.loss_pct, 1e-9);
	assert_near(1.0, q.jitter_ms, 1e-9);

	/* a call without an audio stream has no quality */
	fake.present = false;
	assert_int_equal(ENOENT, quality_read(&q, call));

	assert_int_equal(EINVAL, quality_read(NULL, call));
	assert_int_equal(EINVAL, quality_read(&q, NULL));
}


static void the_api_object(void **state)
{
	struct rtcp_stats rs;
	struct quality q;
	json_t *o;
	(void)state;

	memset(&rs, 0, sizeof(rs));
	rs.rx.sent = 900;
	rs.rx.lost = 100;
	rs.rx.jit = 1234;
	rs.tx.sent = 1000;
	rs.tx.lost = 3;
	quality_set(&q, &rs, 950, 1000, 0);

	o = quality_encode(&q);
	assert_non_null(o);
	assert_near(q.mos, json_real_value(json_object_get(o, "mos")), 0.005);
	assert_int_equal(950, json_integer_value(json_object_get(o,
								 "rx_packets")));
	assert_int_equal(1000, json_integer_value(json_object_get(o,
								  "tx_packets")));
	assert_int_equal(100, json_integer_value(json_object_get(o, "lost")));
	assert_near(10.0, json_real_value(json_object_get(o, "loss_pct")),
		    1e-9);
	assert_near(1.2, json_real_value(json_object_get(o, "jitter_ms")),
		    1e-9);
	assert_int_equal(3, json_integer_value(json_object_get(o, "tx_lost")));
	assert_near(0.3, json_real_value(json_object_get(o, "tx_loss_pct")),
		    1e-9);

	/* no round trip measured: null, not 0 */
	assert_true(json_is_null(json_object_get(o, "rtt_ms")));
	json_decref(o);

	/* before the first report: counts, and nulls for the rest */
	quality_set(&q, NULL, 10, 11, 0);
	o = quality_encode(&q);
	assert_non_null(o);
	assert_int_equal(10, json_integer_value(json_object_get(o,
								"rx_packets")));
	assert_true(json_is_null(json_object_get(o, "mos")));
	assert_true(json_is_null(json_object_get(o, "lost")));
	assert_true(json_is_null(json_object_get(o, "loss_pct")));
	assert_true(json_is_null(json_object_get(o, "jitter_ms")));
	json_decref(o);

	assert_null(quality_encode(NULL));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mos_of_a_clean_call_is_g711s_best),
		cmocka_unit_test(mos_falls_with_loss),
		cmocka_unit_test(mos_falls_with_jitter_and_delay),
		cmocka_unit_test(mos_stays_within_its_scale),
		cmocka_unit_test(figures_from_rtcp),
		cmocka_unit_test(before_any_report_loss_is_unknown),
		cmocka_unit_test(duplicates_are_no_negative_loss),
		cmocka_unit_test(read_from_the_calls_stream),
		cmocka_unit_test(the_api_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
