/**
 * @file test_talkq.c  A client's queue of audio to the phone: formats,
 *                     reframing, drop-oldest, underruns, clear, marks
 */

#include "unit.h"
#include "sipphone.h"
#include "wsaudio.h"


enum {
	MARKS_MAX = 8,
};

/* What the queue reported, in order */
struct marks {
	struct {
		char name[16];
		bool cleared;
	} v[MARKS_MAX];
	size_t n;
};


static void mark_handler(const char *name, bool cleared, void *arg)
{
	struct marks *mk = arg;

	assert_true(mk->n < MARKS_MAX);
	str_ncpy(mk->v[mk->n].name, name, sizeof(mk->v[0].name));
	mk->v[mk->n].cleared = cleared;
	++mk->n;
}


/* L16 of a ramp: samples values from first up, by one */
static void l16_ramp(uint8_t *buf, size_t samples, int16_t first)
{
	size_t i;

	for (i = 0; i < samples; i++) {
		uint16_t v = (uint16_t)(first + (int16_t)i);

		buf[2*i] = v & 0xff;
		buf[2*i + 1] = v >> 8;
	}
}


static void assert_ramp(const int16_t *sampv, size_t n, int16_t first)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(first + (int16_t)i, sampv[i]);
}


static void assert_silence(const int16_t *sampv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(0, sampv[i]);
}


static void pcmu_is_decoded(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t pcmu[AUDIO_PCMU_SIZE];
	int16_t frame[AUDIO_SAMPC];
	uint32_t dropped = 99;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(pcmu); i++)
		pcmu[i] = (uint8_t)i;

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));
	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       &dropped));
	assert_int_equal(0, dropped);
	assert_int_equal(AUDIO_PTIME, talkq_queued_ms(q));

	talkq_pull(q, frame, AUDIO_SAMPC);
	for (i = 0; i < AUDIO_SAMPC; i++)
		assert_int_equal(g711_ulaw2pcm(pcmu[i]), frame[i]);
	assert_int_equal(0, talkq_queued_ms(q));

	mem_deref(q);
}


static void l16_is_little_endian_whole_samples(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t l16[AUDIO_L16_SIZE];
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;
	(void)state;

	l16_ramp(l16, AUDIO_SAMPC, -80);

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));
	assert_int_equal(0, talkq_push(q, l16, sizeof(l16), WS_AUDIO_L16,
				       NULL));
	assert_int_equal(AUDIO_PTIME, talkq_queued_ms(q));

	/* half a sample is refused whole: nothing of it is queued */
	assert_int_equal(EINVAL, talkq_push(q, l16, 3, WS_AUDIO_L16, NULL));
	assert_int_equal(AUDIO_PTIME, talkq_queued_ms(q));

	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_ramp(frame, AUDIO_SAMPC, -80);

	memset(&st, 0xff, sizeof(st));
	talkq_stats(q, &st);
	assert_int_equal(0, st.queued_ms);
	assert_int_equal(0, st.dropped_ms);
	assert_int_equal(0, st.underruns);

	mem_deref(q);
}


static void any_sizes_are_reframed(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t l16[2 * 400];
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;
	(void)state;

	l16_ramp(l16, 400, 1000);

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));

	/* 400 samples in three odd pieces: 7, 150, 243 */
	assert_int_equal(0, talkq_push(q, l16, 14, WS_AUDIO_L16, NULL));
	assert_int_equal(0, talkq_push(q, l16 + 14, 300, WS_AUDIO_L16, NULL));
	assert_int_equal(0, talkq_push(q, l16 + 314, 486, WS_AUDIO_L16,
				       NULL));
	assert_int_equal(50, talkq_queued_ms(q));

	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_ramp(frame, AUDIO_SAMPC, 1000);
	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_ramp(frame, AUDIO_SAMPC, 1160);
	assert_int_equal(10, talkq_queued_ms(q));

	talkq_stats(q, &st);
	assert_int_equal(0, st.underruns);

	mem_deref(q);
}


static void full_queue_drops_the_oldest(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t l16[2 * 400];
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;
	uint32_t dropped = 0;
	(void)state;

	l16_ramp(l16, 400, 0);

	/* room for 40 ms: 320 samples */
	assert_int_equal(0, talkq_alloc(&q, 40, mark_handler, &mk));

	assert_int_equal(0, talkq_push(q, l16, 2 * 320, WS_AUDIO_L16,
				       &dropped));
	assert_int_equal(0, dropped);

	/* 80 more samples push the 80 oldest out: 10 ms */
	assert_int_equal(0, talkq_push(q, l16 + 2 * 320, 2 * 80,
				       WS_AUDIO_L16, &dropped));
	assert_int_equal(10, dropped);
	assert_int_equal(40, talkq_queued_ms(q));

	talkq_stats(q, &st);
	assert_int_equal(40, st.queued_ms);
	assert_int_equal(10, st.dropped_ms);

	/* the newest are kept, in order */
	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_ramp(frame, AUDIO_SAMPC, 80);
	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_ramp(frame, AUDIO_SAMPC, 240);

	/* the counts add up over pushes */
	assert_int_equal(0, talkq_push(q, l16, 2 * 400, WS_AUDIO_L16,
				       &dropped));
	assert_int_equal(10, dropped);
	talkq_stats(q, &st);
	assert_int_equal(20, st.dropped_ms);
	assert_int_equal(0, st.underruns);

	mem_deref(q);
}


static void underrun_is_padded_with_silence(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t l16[2 * 100];
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;
	(void)state;

	l16_ramp(l16, 100, 1);

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));
	assert_int_equal(0, talkq_push(q, l16, sizeof(l16), WS_AUDIO_L16,
				       NULL));

	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_ramp(frame, 100, 1);
	assert_silence(frame + 100, AUDIO_SAMPC - 100);

	talkq_stats(q, &st);
	assert_int_equal(1, st.underruns);

	/* an empty queue gives silence: no audio, no underrun */
	memset(frame, 0x55, sizeof(frame));
	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_silence(frame, AUDIO_SAMPC);

	talkq_stats(q, &st);
	assert_int_equal(1, st.underruns);

	mem_deref(q);
}


static void clear_returns_the_ms_dropped(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t pcmu[800];
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;
	(void)state;

	memset(pcmu, 0x10, sizeof(pcmu));

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));
	assert_int_equal(0, talkq_clear(q));

	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       NULL));
	assert_int_equal(100, talkq_clear(q));
	assert_int_equal(0, talkq_queued_ms(q));

	memset(frame, 0x55, sizeof(frame));
	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_silence(frame, AUDIO_SAMPC);

	/* cleared audio was asked to go: it counts as no drop */
	talkq_stats(q, &st);
	assert_int_equal(0, st.dropped_ms);

	/* and the queue takes audio again, from a clean start */
	assert_int_equal(0, talkq_push(q, pcmu, AUDIO_PCMU_SIZE,
				       WS_AUDIO_PCMU, NULL));
	assert_int_equal(AUDIO_PTIME, talkq_queued_ms(q));

	mem_deref(q);
}


static void marks_are_reached_in_order(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t pcmu[AUDIO_PCMU_SIZE];
	int16_t frame[AUDIO_SAMPC];
	(void)state;

	memset(pcmu, 0xff, sizeof(pcmu));

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));

	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       NULL));
	assert_int_equal(0, talkq_mark(q, "one"));
	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       NULL));
	assert_int_equal(0, talkq_mark(q, "two"));
	assert_int_equal(0, talkq_mark(q, "three"));

	/* placing a mark reports nothing */
	assert_int_equal(0, mk.n);
	talkq_poll_marks(q);
	assert_int_equal(0, mk.n);

	/* half a frame played: not yet */
	talkq_pull(q, frame, AUDIO_SAMPC / 2);
	assert_int_equal(0, mk.n);

	talkq_pull(q, frame, AUDIO_SAMPC / 2);
	assert_int_equal(1, mk.n);
	assert_string_equal("one", mk.v[0].name);
	assert_false(mk.v[0].cleared);

	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_int_equal(3, mk.n);
	assert_string_equal("two", mk.v[1].name);
	assert_string_equal("three", mk.v[2].name);
	assert_false(mk.v[1].cleared);
	assert_false(mk.v[2].cleared);

	/* each once */
	talkq_pull(q, frame, AUDIO_SAMPC);
	talkq_poll_marks(q);
	assert_int_equal(3, mk.n);

	mem_deref(q);
}


static void mark_on_empty_queue_waits_for_a_poll(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	(void)state;

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));

	assert_int_equal(0, talkq_mark(q, "now"));
	assert_int_equal(0, mk.n);

	talkq_poll_marks(q);
	assert_int_equal(1, mk.n);
	assert_string_equal("now", mk.v[0].name);
	assert_false(mk.v[0].cleared);

	assert_int_equal(EINVAL, talkq_mark(q, NULL));
	assert_int_equal(EINVAL, talkq_mark(NULL, "x"));

	mem_deref(q);
}


static void marks_of_cleared_audio_are_reported_cleared(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t pcmu[AUDIO_PCMU_SIZE];
	int16_t frame[AUDIO_SAMPC];
	(void)state;

	memset(pcmu, 0xff, sizeof(pcmu));

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));

	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       NULL));
	assert_int_equal(0, talkq_mark(q, "a"));
	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       NULL));
	assert_int_equal(0, talkq_mark(q, "b"));

	assert_int_equal(2 * AUDIO_PTIME, talkq_clear(q));
	assert_int_equal(2, mk.n);
	assert_string_equal("a", mk.v[0].name);
	assert_string_equal("b", mk.v[1].name);
	assert_true(mk.v[0].cleared);
	assert_true(mk.v[1].cleared);

	/* gone: nothing later reports them again */
	talkq_pull(q, frame, AUDIO_SAMPC);
	assert_int_equal(2, mk.n);

	mem_deref(q);
}


static void dropped_audio_passes_its_marks(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t pcmu[AUDIO_PCMU_SIZE];
	(void)state;

	memset(pcmu, 0xff, sizeof(pcmu));

	/* room for one frame */
	assert_int_equal(0, talkq_alloc(&q, AUDIO_PTIME, mark_handler, &mk));

	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       NULL));
	assert_int_equal(0, talkq_mark(q, "old"));

	/* the next frame pushes the marked one out: as if played */
	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       NULL));
	assert_int_equal(1, mk.n);
	assert_string_equal("old", mk.v[0].name);
	assert_false(mk.v[0].cleared);

	mem_deref(q);
}


static void pending_marks_go_with_the_queue(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t pcmu[AUDIO_PCMU_SIZE];
	(void)state;

	memset(pcmu, 0xff, sizeof(pcmu));

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));
	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       NULL));
	assert_int_equal(0, talkq_mark(q, "never"));

	/* a closing session is told nothing (valgrind checks the frees) */
	mem_deref(q);
	assert_int_equal(0, mk.n);
}


static void bad_arguments(void **state)
{
	struct talkq *q = NULL;
	struct marks mk = {0};
	uint8_t pcmu[4] = {0};
	uint32_t dropped = 7;
	(void)state;

	assert_int_equal(EINVAL, talkq_alloc(NULL, 1000, mark_handler, &mk));
	assert_int_equal(EINVAL, talkq_alloc(&q, 0, mark_handler, &mk));
	assert_int_equal(EINVAL, talkq_alloc(&q, 1000, NULL, &mk));
	assert_null(q);

	assert_int_equal(0, talkq_alloc(&q, 1000, mark_handler, &mk));
	assert_int_equal(EINVAL, talkq_push(NULL, pcmu, 4, WS_AUDIO_PCMU,
					    &dropped));
	assert_int_equal(0, dropped);
	assert_int_equal(EINVAL, talkq_push(q, NULL, 4, WS_AUDIO_PCMU, NULL));
	assert_int_equal(EINVAL, talkq_push(q, pcmu, 4, WS_AUDIO_NONE, NULL));
	assert_int_equal(0, talkq_push(q, NULL, 0, WS_AUDIO_PCMU, NULL));
	assert_int_equal(0, talkq_queued_ms(q));
	assert_int_equal(0, talkq_queued_ms(NULL));

	mem_deref(q);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcmu_is_decoded),
		cmocka_unit_test(l16_is_little_endian_whole_samples),
		cmocka_unit_test(any_sizes_are_reframed),
		cmocka_unit_test(full_queue_drops_the_oldest),
		cmocka_unit_test(underrun_is_padded_with_silence),
		cmocka_unit_test(clear_returns_the_ms_dropped),
		cmocka_unit_test(marks_are_reached_in_order),
		cmocka_unit_test(mark_on_empty_queue_waits_for_a_poll),
		cmocka_unit_test(marks_of_cleared_audio_are_reported_cleared),
		cmocka_unit_test(dropped_audio_passes_its_marks),
		cmocka_unit_test(pending_marks_go_with_the_queue),
		cmocka_unit_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
