/**
 * @file quality.c  A call's audio quality: RTP counts, loss and jitter
 *                  from RTCP, and a MOS estimate from them
 *
 * The figures come from baresip's audio stream of the call:
 *
 *  - packets: the stream's RTP counters, live;
 *  - loss and jitter of the phone's packets: our own receiver figures
 *    (sequence numbers, arrival times), and the phone's view of ours
 *    (the report block of its RTCP sender report), and the round trip:
 *    baresip takes all of them when an RTCP sender report comes from the
 *    phone, every 5 s. Until the first one they are unknown (null).
 *
 * MOS: a simplified ITU-T G.107 E-model for G.711 in 20 ms packets,
 * with the default values for everything but delay and packet loss:
 *
 *   R      = 93.2 - Id - Ie_eff
 *   d      = 40 + 2 J + RTT / 2              one-way delay, ms: 20 ms
 *                                            packets, one 20 ms frame of
 *                                            playout, a jitter buffer of
 *                                            twice the jitter J, half the
 *                                            round trip (0 if unknown)
 *   Id     = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)
 *                                            (Cole and Rosenbluth's fit of
 *                                            G.107's delay impairment;
 *                                            H(x) = 1 if x > 0, else 0)
 *   Ie_eff = 95 Ppl / (Ppl + 4.3)            G.107 with Ie = 0 for G.711,
 *                                            Bpl = 4.3 (G.113 App. I:
 *                                            G.711 without concealment,
 *                                            as baresip plays it) and
 *                                            random loss (BurstR = 1);
 *                                            Ppl the loss in percent
 *   MOS    = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R), for 0 < R < 100,
 *            kept within 1 to 4.5
 *
 * A clean call on a LAN scores 4.39, the best G.711 can; 1 % loss 3.79,
 * 2 % 3.21, 5 % 2.12, 10 % 1.44; a jitter of 20 ms costs 0.02, a round
 * trip of 300 ms 0.12. The worse of the two directions counts: loss and
 * jitter of the phone's packets as we measure them, or of ours as the
 * phone reports them.
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "sip/sip.h"


static const double r_default = 93.2;  /* G.107 R with default values */
static const double bpl_g711 = 4.3;    /* robustness, no concealment  */
static const double delay_base_ms = 40.0;


/* One-way delay impairment Id of a delay in ms */
static double delay_impairment(double d)
{
	double id = 0.024 * d;

	if (d > 177.3)
		id += 0.11 * (d - 177.3);

	return id;
}


/**
 * The E-model's transmission rating R of a G.711 call
 *
 * @param loss_pct   Packet loss in percent (0-100)
 * @param jitter_ms  Interarrival jitter in ms
 * @param rtt_ms     Round-trip time in ms, 0 if unknown
 *
 * @return R, 0 to 93.2
 */
double quality_r_factor(double loss_pct, double jitter_ms, double rtt_ms)
{
	double d, ie_eff, r;

	loss_pct = loss_pct < 0 ? 0 : loss_pct > 100 ? 100 : loss_pct;
	jitter_ms = jitter_ms > 0 ? jitter_ms : 0;
	rtt_ms = rtt_ms > 0 ? rtt_ms : 0;

	d = delay_base_ms + 2 * jitter_ms + rtt_ms / 2;
	ie_eff = 95.0 * loss_pct / (loss_pct + bpl_g711);

	r = r_default - delay_impairment(d) - ie_eff;

	return r < 0 ? 0 : r;
}


/** MOS (1.0 to 4.5) of an R rating (G.107 Annex B) */
double quality_mos_of_r(double r)
{
	double mos;

	if (r <= 0)
		return 1.0;
	if (r >= 100)
		return 4.5;

	/* the polynomial dips below 1 for R under 6.5 */
	mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);

	return mos < 1 ? 1.0 : mos;
}


/** The MOS estimate of a G.711 call (see the file's comment) */
double quality_mos(double loss_pct, double jitter_ms, double rtt_ms)
{
	return quality_mos_of_r(quality_r_factor(loss_pct, jitter_ms,
						 rtt_ms));
}


static double pct(uint32_t part, uint64_t whole)
{
	return whole ? 100.0 * part / whole : 0;
}


/**
 * Fill a quality from a stream's figures
 *
 * @param q           Returned quality
 * @param rs          RTCP statistics, or NULL
 * @param rx_packets  RTP packets received
 * @param tx_packets  RTP packets sent
 * @param rx_errors   Received packets the stream refused
 */
void quality_set(struct quality *q, const struct rtcp_stats *rs,
		 uint32_t rx_packets, uint32_t tx_packets, uint32_t rx_errors)
{
	double loss, jitter;

	if (!q)
		return;

	memset(q, 0, sizeof(*q));
	q->rx_packets = rx_packets;
	q->tx_packets = tx_packets;
	q->rx_errors = rx_errors;

	/* nothing counted before the phone's first sender report */
	if (!rs || !(rs->rx.sent || rs->tx.sent))
		return;

	q->rtcp = true;

	/* a duplicate counts as received: "lost" may go below zero */
	q->lost = rs->rx.lost > 0 ? (uint32_t)rs->rx.lost : 0;
	q->loss_pct = pct(q->lost, (uint64_t)rs->rx.sent + q->lost);
	q->jitter_ms = rs->rx.jit / 1000.0;

	q->tx_lost = rs->tx.lost > 0 ? (uint32_t)rs->tx.lost : 0;
	q->tx_loss_pct = pct(q->tx_lost, rs->tx.sent);
	q->tx_jitter_ms = rs->tx.jit / 1000.0;

	q->rtt_ms = rs->rtt / 1000.0;

	loss = q->loss_pct > q->tx_loss_pct ? q->loss_pct : q->tx_loss_pct;
	jitter = q->jitter_ms > q->tx_jitter_ms ? q->jitter_ms
						 : q->tx_jitter_ms;

	q->mos = quality_mos(loss, jitter, q->rtt_ms);
}


/**
 * Read a call's quality from its audio stream
 *
 * @param q     Returned quality
 * @param call  baresip's call (before it is gone)
 *
 * @return 0 if success, ENOENT if the call has no audio stream
 */
int quality_read(struct quality *q, const struct call *call)
{
	const struct stream *strm;

	if (!q || !call)
		return EINVAL;

	strm = audio_strm(call_audio(call));
	if (!strm)
		return ENOENT;

	quality_set(q, stream_rtcp_stats(strm),
		    stream_metric_get_rx_n_packets(strm),
		    stream_metric_get_tx_n_packets(strm),
		    stream_metric_get_rx_n_err(strm));

	return 0;
}


/* A figure rounded to a number of decimals, or null */
static json_t *real(bool known, double v, int decimals)
{
	double f = decimals == 1 ? 10 : decimals == 2 ? 100 : 1000;

	if (!known)
		return json_null();

	return json_real((double)(int64_t)(v * f + 0.5) / f);
}


/**
 * The API's quality object: packets, loss, jitter, round trip, MOS;
 * the RTCP figures are null until the phone's first report
 *
 * @param q  Quality
 *
 * @return new JSON object, or NULL if out of memory
 */
json_t *quality_encode(const struct quality *q)
{
	if (!q)
		return NULL;

	return json_pack("{s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o}",
			 "mos", real(q->rtcp, q->mos, 2),
			 "rx_packets", (json_int_t)q->rx_packets,
			 "tx_packets", (json_int_t)q->tx_packets,
			 "rx_errors", (json_int_t)q->rx_errors,
			 "lost", q->rtcp ? json_integer(q->lost) : json_null(),
			 "loss_pct", real(q->rtcp, q->loss_pct, 2),
			 "jitter_ms", real(q->rtcp, q->jitter_ms, 1),
			 "tx_lost", q->rtcp ? json_integer(q->tx_lost)
					    : json_null(),
			 "tx_loss_pct", real(q->rtcp, q->tx_loss_pct, 2),
			 "tx_jitter_ms", real(q->rtcp, q->tx_jitter_ms, 1),
			 "rtt_ms", real(q->rtcp && q->rtt_ms > 0,
					q->rtt_ms, 1));
}
