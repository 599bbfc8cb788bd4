/* heartzoo_preprocess.h: a zoo model's preprocessing on a microcontroller. C99, no malloc; the float
 * build calls sqrtf only (one VSQRT on a Cortex-M4F), the fixed-point build uses no floating point.
 *
 * Feed the raw samples of one ECG lead at the recording rate, and the R peaks a QRS detector finds in
 * them; get each beat's int8 model inputs, made as heartzoo's Python Preprocessor makes them (the
 * firmware contract of the model's configuration.json, rendered as heartzoo_contract.h):
 *
 *   1. resampling from HZ_RECORDING_HZ to HZ_MODEL_HZ: the polyphase FIR of scipy.signal.resample_poly
 *      (Kaiser-windowed sinc, beta 5, 20 * max(up, down) + 1 taps, zero phase), run as a stream. Python
 *      filters a whole record, taking the signal as zero before its start and after its end; so does
 *      this stream (hz_pre_finish() ends it), so the edges match too;
 *   2. a frame of HZ_FRAME_SIZE resampled samples with the beat's R peak at HZ_R_PEAK_INDEX (the peak
 *      moved to the model rate by rounding half to even), edge-padded at the recording's ends;
 *   3. z-score: (x - mean) / (std + eps), in the float build by the same float32 operations, in the
 *      same order (numpy's pairwise sums), as numpy;
 *   4. with HZ_TEMPLATE_BEATS > 0, a second channel: the frame minus the mean of the previous
 *      HZ_TEMPLATE_BEATS frames (the first frame is its own template);
 *   5. with HZ_RR_FEATURES, pre/local10, post/local10, pre/local300, post/local300: the RR interval
 *      before and after the beat over the mean of the last 10 / 300 RR intervals up to and including
 *      the one before it, each mean plus HZ_RR_EPS seconds (the first beat's "before" is its "after",
 *      the last beat's "after" its "before");
 *   6. int8 quantization: q = round(x / scale) + zero_point, clipped to [-128, 127].
 *
 * The "after" RR interval costs one beat of latency: a beat is ready once its frame is complete and
 * the next R peak is known. Usage:
 *
 *   static hz_pre_t pre;                    (about 4 KB at 100 Hz; sizeof says exactly)
 *   hz_pre_init(&pre);
 *   on each ADC sample:  hz_pre_push_sample(&pre, x);
 *   on each R peak:      hz_pre_push_peak(&pre, sample_index);   (index in the input stream, 0-based)
 *   then:                while ((r = hz_pre_pop(&pre, ecg, rr, &peak)) != 0)
 *                          if (r > 0) { run the model }   (r < 0: a beat dropped)
 *   at the end of a recording (tests, files): hz_pre_finish(&pre), then pop the last beats.
 *
 * `ecg` and `rr` may be the model's input tensors themselves (TFLM: interpreter.input(i)->data.int8).
 * Call hz_pre_pop after every sample: a beat whose frame has left the ring buffer is dropped with
 * HZ_ERR_LATE. Push each R peak at most HZ_PEAK_DELAY_S seconds after its sample (QRS detectors need
 * about 0.2-0.3 s), in order.
 */
#ifndef HEARTZOO_PREPROCESS_H_
#define HEARTZOO_PREPROCESS_H_

#include <stdint.h>

#include "heartzoo_contract.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -- sizes (override with -D, the same for every file that includes this header) -------------------- */
#ifndef HZ_PEAK_DELAY_S
#define HZ_PEAK_DELAY_S 1 /* seconds a peak may be pushed after its sample */
#endif
#ifndef HZ_MAX_PEAKS
#define HZ_MAX_PEAKS 32 /* R peaks waiting for their frame (a frame spans ~5 s: 25 beats at 300 bpm) */
#endif
/* resampled samples kept: one frame, plus how late a peak may come */
#define HZ_RING (HZ_FRAME_SIZE + HZ_PEAK_DELAY_S * HZ_MODEL_HZ + 2)
#define HZ_ECG_LEN (HZ_FRAME_SIZE * HZ_ECG_CHANNELS) /* int8 values of the ECG input ([T][C]) */
#define HZ_RR_LEN 4                                   /* int8 values of the RR input */
#if HZ_TAPS_PER_PHASE > 64
#define HZ_HIST 128 /* input samples kept for the FIR: a power of two >= HZ_TAPS_PER_PHASE */
#elif HZ_TAPS_PER_PHASE > 32
#define HZ_HIST 64
#elif HZ_TAPS_PER_PHASE > 16
#define HZ_HIST 32
#else
#define HZ_HIST 16
#endif
#if HZ_TAPS_PER_PHASE > 1024
#error "resampling filter too long for HZ_HIST: add a larger power of two above"
#endif

/* -- numbers ---------------------------------------------------------------------------------------- */
#ifndef HZ_DOUBLE
/* float build: 1 runs the resampler's taps and sums in double, as scipy does, and the inputs match
 * Python's bit for bit; 0 keeps to float (a Cortex-M4F's FPU: faster, no soft-float double) and an
 * input element is off by one step about once in 250,000. */
#define HZ_DOUBLE 1
#endif
#if HZ_FIXED_POINT
typedef int16_t hz_sample_t; /* ADC counts minus the baseline: |x| < 2^(HZ_ADC_BITS - 1) */
typedef int32_t hz_value_t;  /* resampled signal, counts in Q(HZ_SIGNAL_Q) */
typedef int32_t hz_z_t;      /* z-scored values in Q24 (templates) */
#else
typedef float hz_sample_t; /* millivolts */
typedef float hz_value_t;
typedef float hz_z_t;
#endif

/* -- results ---------------------------------------------------------------------------------------- */
#define HZ_OK 0
#define HZ_ERR_ORDER (-1) /* an R peak before the previous one */
#define HZ_ERR_FULL (-2)  /* HZ_MAX_PEAKS peaks already wait: the peak is dropped */
#define HZ_ERR_LATE (-3)  /* the beat's frame has left the ring buffer: the beat is dropped */
#define HZ_ERR_ENDED (-4) /* a sample or peak after hz_pre_finish() */

typedef struct {
  /* the resampler: recent input samples, counts of samples in and out */
  hz_sample_t hist[HZ_HIST];
  uint32_t n_in, n_out;
  uint32_t fir_j;      /* the input sample the next output waits for */
  uint16_t fir_p;      /* and its filter phase */
  uint16_t ring_w;     /* where output n_out goes in the ring */
  uint32_t n_out_total; /* after hz_pre_finish(): the resampled length (Python's len(resample(x))) */
  uint8_t finished;
  /* the resampled signal: samples n_out - HZ_RING .. n_out - 1 at n % HZ_RING */
  hz_value_t ring[HZ_RING];
  hz_value_t first, last; /* the first resampled sample, the last one after hz_pre_finish() */
  /* R peaks (input sample indices) waiting to be emitted, oldest first */
  uint32_t peaks[HZ_MAX_PEAKS];
  uint16_t peak_head, peak_count;
  uint32_t last_peak; /* the last peak pushed */
  uint8_t any_peak;
  uint32_t prev_peak; /* the last emitted beat's peak (its RR interval "before" the next) */
  uint32_t beats;     /* beats emitted */
#if HZ_RR_FEATURES
  /* the oldest beat's int8 frame, made when its frame was complete but the next peak unknown */
  int8_t held[HZ_ECG_LEN];
  uint8_t held_valid;
  uint16_t rr[HZ_RR_LONG]; /* the last RR intervals "before" (input samples), at beat % HZ_RR_LONG */
  uint32_t rr_sum_short, rr_sum_long;
  uint16_t rr_pos;
#endif
#if HZ_TEMPLATE_BEATS > 0
  hz_z_t tpl[HZ_TEMPLATE_BEATS][HZ_FRAME_SIZE]; /* the last z-scored frames, at beat % HZ_TEMPLATE_BEATS */
  uint16_t tpl_pos;
#endif
} hz_pre_t;

void hz_pre_init(hz_pre_t *s);
/* One sample of the recording's lead, at HZ_RECORDING_HZ (float: mV; fixed point: ADC counts minus the
 * baseline, at the gain heartzoo_contract.h names). HZ_OK or HZ_ERR_ENDED. */
int hz_pre_push_sample(hz_pre_t *s, hz_sample_t x);
/* An R peak at input sample `index` (0 = the first sample pushed). HZ_OK or an HZ_ERR_. */
int hz_pre_push_peak(hz_pre_t *s, uint32_t index);
/* The end of the recording: the signal is zero after it (as for Python's resampler), frames past it
 * are padded with the last sample, the last beat takes its RR interval "after" from "before". */
void hz_pre_finish(hz_pre_t *s);
/* 1 and the oldest ready beat's inputs (ecg: HZ_ECG_LEN int8, rr: HZ_RR_LEN int8 or NULL without RR
 * features; peak: its R-peak index, may be NULL), 0 when no beat is ready, or HZ_ERR_LATE. */
int hz_pre_pop(hz_pre_t *s, int8_t *ecg, int8_t *rr, uint32_t *peak);

/* The model's int8 output: the class with the highest probability, and the probabilities
 * p = (q - zero_point) * scale (float build: floats; fixed point: Q15). */
int hz_argmax(const int8_t *q);
#if HZ_FIXED_POINT
void hz_probabilities_q15(const int8_t *q, int16_t *p);
#else
void hz_probabilities(const int8_t *q, float *p);
#endif

#ifdef __cplusplus
}
#endif

#endif /* HEARTZOO_PREPROCESS_H_ */
