/**
 * @file test_talkq.c  A client's queue of audio to the phone: formats,
 *                     reframing, drop-oldest, underruns, clear, marks
 */

#include "unit.h"
#include "sipphone.h"
#include "wsaudio.h"


enum {
	MARKS_MAX = 8,
	QUEUE_MS = 1000,       /* the fixture's queue */
};

/* A queue and what it reported, in order */
struct fx {
	struct talkq *q;
	struct {
		char name[16];
		bool cleared;
	} markv[MARKS_MAX];
	size_t markc;
};


static void mark_handler(const char *name, bool cleared, void *arg)
{
	struct fx *fx = arg;

	assert_true(fx->markc < MARKS_MAX);
	str_ncpy(fx->markv[fx->markc].name, name,
		 sizeof(fx->markv[0].name));
	fx->markv[fx->markc].cleared = cleared;
	++fx->markc;
}


/* Give the fixture a new queue of queue_ms */
static struct talkq *fx_queue(struct fx *fx, uint32_t queue_ms)
{
	fx->q = mem_deref(fx->q);
	assert_int_equal(0, talkq_alloc(&fx->q, queue_ms, mark_handler, fx));

	return fx->q;
}


static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;

	(void)fx_queue(fx, QUEUE_MS);
	*state = fx;

	return 0;
}


static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	mem_deref(fx->q);
	free(fx);

	return 0;
}


static void assert_mark(const struct fx *fx, size_t i, const char *name,
			bool cleared)
{
	assert_true(i < fx->markc);
	assert_string_equal(name, fx->markv[i].name);
	assert_int_equal(cleared, fx->markv[i].cleared);
}


/* samples of L16: a ramp from first up, by one */
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


/* One 20 ms frame of PCMU */
static void push_frame(struct talkq *q)
{
	uint8_t pcmu[AUDIO_PCMU_SIZE];

	memset(pcmu, 0xff, sizeof(pcmu));
	assert_int_equal(0, talkq_push(q, pcmu, sizeof(pcmu), WS_AUDIO_PCMU,
				       NULL));
}


static void pcmu_is_decoded(void **state)
{
	struct fx *fx = *state;
	uint8_t pcmu[AUDIO_PCMU_SIZE];
	int16_t frame[AUDIO_SAMPC];
	uint32_t dropped = 99;
	size_t i;

	for (i = 0; i < sizeof(pcmu); i++)
		pcmu[i] = (uint8_t)i;

	assert_int_equal(0, talkq_push(fx->q, pcmu, sizeof(pcmu),
				       WS_AUDIO_PCMU, &dropped));
	assert_int_equal(0, dropped);
	assert_int_equal(AUDIO_PTIME, talkq_queued_ms(fx->q));

	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	for (i = 0; i < AUDIO_SAMPC; i++)
		assert_int_equal(g711_ulaw2pcm(pcmu[i]), frame[i]);
	assert_int_equal(0, talkq_queued_ms(fx->q));
}


static void l16_is_little_endian_whole_samples(void **state)
{
	struct fx *fx = *state;
	uint8_t l16[AUDIO_L16_SIZE];
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;

	l16_ramp(l16, AUDIO_SAMPC, -80);

	assert_int_equal(0, talkq_push(fx->q, l16, sizeof(l16), WS_AUDIO_L16,
				       NULL));
	assert_int_equal(AUDIO_PTIME, talkq_queued_ms(fx->q));

	/* half a sample is refused whole: nothing of it is queued */
	assert_int_equal(EINVAL, talkq_push(fx->q, l16, 3, WS_AUDIO_L16,
					    NULL));
	assert_int_equal(AUDIO_PTIME, talkq_queued_ms(fx->q));

	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	assert_ramp(frame, AUDIO_SAMPC, -80);

	memset(&st, 0xff, sizeof(st));
	talkq_stats(fx->q, &st);
	assert_int_equal(0, st.queued_ms);
	assert_int_equal(0, st.dropped_ms);
	assert_int_equal(0, st.underruns);
}


static void any_sizes_are_reframed(void **state)
{
	struct fx *fx = *state;
	uint8_t l16[2 * 400];
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;

	l16_ramp(l16, 400, 1000);

	/* 400 samples in three odd pieces: 7, 150, 243 */
	assert_int_equal(0, talkq_push(fx->q, l16, 14, WS_AUDIO_L16, NULL));
	assert_int_equal(0, talkq_push(fx->q, l16 + 14, 300, WS_AUDIO_L16,
				       NULL));
	assert_int_equal(0, talkq_push(fx->q, l16 + 314, 486, WS_AUDIO_L16,
				       NULL));
	assert_int_equal(50, talkq_queued_ms(fx->q));

	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	assert_ramp(frame, AUDIO_SAMPC, 1000);
	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	assert_ramp(frame, AUDIO_SAMPC, 1160);
	assert_int_equal(10, talkq_queued_ms(fx->q));

	talkq_stats(fx->q, &st);
	assert_int_equal(0, st.underruns);
}


static void full_queue_drops_the_oldest(void **state)
{
	struct fx *fx = *state;
	struct talkq *q = fx_queue(fx, 40);    /* 320 samples */
	uint8_t l16[2 * 400];
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;
	uint32_t dropped = 0;

	l16_ramp(l16, 400, 0);

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
}


static void underrun_is_padded_with_silence(void **state)
{
	struct fx *fx = *state;
	uint8_t l16[2 * 100];
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;

	l16_ramp(l16, 100, 1);

	assert_int_equal(0, talkq_push(fx->q, l16, sizeof(l16), WS_AUDIO_L16,
				       NULL));

	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	assert_ramp(frame, 100, 1);
	assert_silence(frame + 100, AUDIO_SAMPC - 100);

	talkq_stats(fx->q, &st);
	assert_int_equal(1, st.underruns);

	/* an empty queue gives silence: no audio, no underrun */
	memset(frame, 0x55, sizeof(frame));
	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	assert_silence(frame, AUDIO_SAMPC);

	talkq_stats(fx->q, &st);
	assert_int_equal(1, st.underruns);
}


static void clear_returns_the_ms_dropped(void **state)
{
	struct fx *fx = *state;
	int16_t frame[AUDIO_SAMPC];
	struct ws_talk_stats st;
	int i;

	assert_int_equal(0, talkq_clear(fx->q));

	for (i = 0; i < 5; i++)
		push_frame(fx->q);
	assert_int_equal(5 * AUDIO_PTIME, talkq_clear(fx->q));
	assert_int_equal(0, talkq_queued_ms(fx->q));

	memset(frame, 0x55, sizeof(frame));
	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	assert_silence(frame, AUDIO_SAMPC);

	/* cleared audio was asked to go: it counts as no drop */
	talkq_stats(fx->q, &st);
	assert_int_equal(0, st.dropped_ms);

	/* and the queue takes audio again, from a clean start */
	push_frame(fx->q);
	assert_int_equal(AUDIO_PTIME, talkq_queued_ms(fx->q));
}


static void marks_are_reached_in_order(void **state)
{
	struct fx *fx = *state;
	int16_t frame[AUDIO_SAMPC];

	push_frame(fx->q);
	assert_int_equal(0, talkq_mark(fx->q, "one"));
	push_frame(fx->q);
	assert_int_equal(0, talkq_mark(fx->q, "two"));
	assert_int_equal(0, talkq_mark(fx->q, "three"));

	/* placing a mark reports nothing */
	assert_int_equal(0, fx->markc);
	talkq_poll_marks(fx->q);
	assert_int_equal(0, fx->markc);

	/* half a frame played: not yet */
	talkq_pull(fx->q, frame, AUDIO_SAMPC / 2);
	assert_int_equal(0, fx->markc);

	talkq_pull(fx->q, frame, AUDIO_SAMPC / 2);
	assert_int_equal(1, fx->markc);
	assert_mark(fx, 0, "one", false);

	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	assert_int_equal(3, fx->markc);
	assert_mark(fx, 1, "two", false);
	assert_mark(fx, 2, "three", false);

	/* each once */
	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	talkq_poll_marks(fx->q);
	assert_int_equal(3, fx->markc);
}


static void mark_on_empty_queue_waits_for_a_poll(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(0, talkq_mark(fx->q, "now"));
	assert_int_equal(0, fx->markc);

	talkq_poll_marks(fx->q);
	assert_int_equal(1, fx->markc);
	assert_mark(fx, 0, "now", false);

	assert_int_equal(EINVAL, talkq_mark(fx->q, NULL));
	assert_int_equal(EINVAL, talkq_mark(NULL, "x"));
}


static void marks_of_cleared_audio_are_reported_cleared(void **state)
{
	struct fx *fx = *state;
	int16_t frame[AUDIO_SAMPC];

	push_frame(fx->q);
	assert_int_equal(0, talkq_mark(fx->q, "a"));
	push_frame(fx->q);
	assert_int_equal(0, talkq_mark(fx->q, "b"));

	assert_int_equal(2 * AUDIO_PTIME, talkq_clear(fx->q));
	assert_int_equal(2, fx->markc);
	assert_mark(fx, 0, "a", true);
	assert_mark(fx, 1, "b", true);

	/* gone: nothing later reports them again */
	talkq_pull(fx->q, frame, AUDIO_SAMPC);
	assert_int_equal(2, fx->markc);
}


static void dropped_audio_passes_its_marks(void **state)
{
	struct fx *fx = *state;
	struct talkq *q = fx_queue(fx, AUDIO_PTIME);    /* one frame */

	push_frame(q);
	assert_int_equal(0, talkq_mark(q, "old"));

	/* the next frame pushes the marked one out: as if played */
	push_frame(q);
	assert_int_equal(1, fx->markc);
	assert_mark(fx, 0, "old", false);
}


static void pending_marks_go_with_the_queue(void **state)
{
	struct fx *fx = *state;

	push_frame(fx->q);
	assert_int_equal(0, talkq_mark(fx->q, "never"));

	/* a closing session is told nothing (valgrind checks the frees) */
	fx->q = mem_deref(fx->q);
	assert_int_equal(0, fx->markc);
}


static void bad_arguments(void **state)
{
	struct fx *fx = *state;
	struct talkq *q = NULL;
	uint8_t pcmu[4] = {0};
	uint32_t dropped = 7;

	assert_int_equal(EINVAL, talkq_alloc(NULL, 1000, mark_handler, fx));
	assert_int_equal(EINVAL, talkq_alloc(&q, 0, mark_handler, fx));
	assert_int_equal(EINVAL, talkq_alloc(&q, 1000, NULL, fx));
	assert_null(q);

	assert_int_equal(EINVAL, talkq_push(NULL, pcmu, 4, WS_AUDIO_PCMU,
					    &dropped));
	assert_int_equal(0, dropped);
	assert_int_equal(EINVAL, talkq_push(fx->q, NULL, 4, WS_AUDIO_PCMU,
					    NULL));
	assert_int_equal(EINVAL, talkq_push(fx->q, pcmu, 4, WS_AUDIO_NONE,
					    NULL));
	assert_int_equal(0, talkq_push(fx->q, NULL, 0, WS_AUDIO_PCMU, NULL));
	assert_int_equal(0, talkq_queued_ms(fx->q));
	assert_int_equal(0, talkq_queued_ms(NULL));
}


#define fx_test(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		fx_test(pcmu_is_decoded),
		fx_test(l16_is_little_endian_whole_samples),
		fx_test(any_sizes_are_reframed),
		fx_test(full_queue_drops_the_oldest),
		fx_test(underrun_is_padded_with_silence),
		fx_test(clear_returns_the_ms_dropped),
		fx_test(marks_are_reached_in_order),
		fx_test(mark_on_empty_queue_waits_for_a_poll),
		fx_test(marks_of_cleared_audio_are_reported_cleared),
		fx_test(dropped_audio_passes_its_marks),
		fx_test(pending_marks_go_with_the_queue),
		fx_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
