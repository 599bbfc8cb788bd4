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
 *      HZ_TEMPLATE_BEATS frames (the first frame is its own template); with HZ_TEMPLATE_ON_TIME, of
 *      the previous frames whose beat came on time: pre/local300 (below) >= HZ_TEMPLATE_SHARE;
 *   5. with HZ_RR_FEATURES, pre/local10, post/local10, pre/local300, post/local300: the RR interval
 *      before and after the beat over the mean of the last 10 / 300 RR intervals up to and including
 *      the one before it, each mean plus HZ_RR_EPS seconds (the first beat's "before" is its "after",
 *      the last beat's "after" its "before"). The intervals are held in 16 bits: one longer than 65,535
 *      input samples (182 s at 360 Hz, 65.5 s at 1 kHz; asystole, or a detector silent that long)
 *      counts as 65,535 samples, in its ratios and in the means of the next 10 / 300 beats, where
 *      Python takes it whole; with HZ_RR_IRREGULARITY, a fifth, irregularity10: over the last
 *      HZ_RR_IRREGULARITY_BEATS intervals before the beat's own "before" (fewer at the start), the lower
 *      median of the absolute differences of successive intervals over their mean plus HZ_RR_EPS;
 *      with HZ_RR_HISTORY > 0, that many more, pre-j/local300: the interval j beats before the beat's
 *      own "before" over the mean of pre/local300 (at the start, where there is none, the first beat's);
 *      with HZ_RR_MEDIAN, every "local300" is "median300": the lower median of the same 300 intervals
 *      (the middle one, or the smaller of the two) in place of their mean;
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
 * about 0.2-0.3 s), in order, and never before its sample is pushed (HZ_ERR_FUTURE). A dropped beat
 * still counts for the RR features (its intervals are known), not for the running template: that is
 * the mean of the last HZ_TEMPLATE_BEATS frames made (Python's, had the dropped beats not been there).
 *
 * Sample indices and counts are 32-bit: one stream takes at most HZ_MAX_SAMPLES input samples (2^32
 * less a margin: 49.7 days at 1 kHz, 138 days at 360 Hz; less when resampling to a higher rate), then
 * hz_pre_push_sample() returns HZ_ERR_WRAP. A monitor that runs longer restarts the stream before that
 * (hz_pre_finish(), pop the last beats, hz_pre_init(); the RR means and templates start again, as for
 * a new recording in Python) and counts its R-peak indices from the restart.
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
#ifndef HZ_RR_IRREGULARITY
#define HZ_RR_IRREGULARITY 0 /* contracts written before it */
#endif
#ifndef HZ_RR_HISTORY
#define HZ_RR_HISTORY 0 /* contracts written before it */
#endif
#ifndef HZ_RR_MEDIAN
#define HZ_RR_MEDIAN 0 /* contracts written before it */
#endif
#ifndef HZ_TEMPLATE_ON_TIME
#define HZ_TEMPLATE_ON_TIME 0 /* contracts written before it: every frame enters the template */
#endif
#if HZ_TEMPLATE_ON_TIME && !(HZ_RR_FEATURES && HZ_TEMPLATE_BEATS > 0)
#error "an on-time template reads the RR features: regenerate heartzoo_contract.h"
#endif
#define HZ_RR_LEN (4 + HZ_RR_IRREGULARITY + HZ_RR_HISTORY) /* int8 values of the RR input */
#if HZ_RR_FEATURES && HZ_RR_HISTORY >= HZ_RR_LONG
#error "HZ_RR_HISTORY reads the ring of the last HZ_RR_LONG intervals: regenerate heartzoo_contract.h"
#endif
/* HZ_HIST (heartzoo_contract.h): input samples kept for the FIR, a power of two >= HZ_TAPS_PER_PHASE */
#if !defined(HZ_HIST) || HZ_HIST < 1 || (HZ_HIST & (HZ_HIST - 1)) != 0
#error "HZ_HIST must be a power of two: regenerate heartzoo_contract.h with heartzoo"
#endif
#if HZ_HIST < HZ_TAPS_PER_PHASE
#error "HZ_HIST is shorter than a phase of the resampling filter: regenerate heartzoo_contract.h"
#endif
#ifndef HZ_MAX_SAMPLES
/* input samples one stream takes: every 32-bit count (input and resampled samples, R-peak indices) stays
 * below 2^32 - 2^20 (the resampler looks 10 * max(HZ_UP, HZ_DOWN) / HZ_UP input samples ahead) */
#define HZ_MAX_SAMPLES ((uint32_t)(0xFFF00000u / (HZ_UP > HZ_DOWN ? HZ_UP : HZ_DOWN) * HZ_DOWN))
#endif

/* -- numbers ---------------------------------------------------------------------------------------- */
#ifndef HZ_DOUBLE
/* float build: 1 runs the resampler's taps and sums in double, as scipy does, and the inputs match
 * Python's bit for bit; 0 keeps to float (a Cortex-M4F's FPU: faster, no soft-float double) and an
 * input element is off by one step about once in 250,000. */
#define HZ_DOUBLE 1
#endif
#if HZ_FIXED_POINT
typedef int16_t hz_sample_t; /* ADC counts minus the baseline: |x| <= 2^(HZ_ADC_BITS - 1) */
typedef int32_t hz_value_t;  /* resampled signal, counts in Q(HZ_SIGNAL_Q): |x| < 2^HZ_SIGNAL_BITS */
typedef int32_t hz_z_t;      /* z-scored values in Q24 (templates) */
#if HZ_SIGNAL_BITS > 30
#error "the resampled signal must fit 30 bits (so does the difference of two samples in int32)"
#endif
#if HZ_ZSCORE && (HZ_SQ_SHIFT > 2 * HZ_SIGNAL_BITS || \
                  HZ_FRAME_SIZE > (UINT64_MAX >> (2 * HZ_SIGNAL_BITS - HZ_SQ_SHIFT)))
/* a frame's sum of (x - mean)^2 >> HZ_SQ_SHIFT, below T 2^(2 HZ_SIGNAL_BITS - HZ_SQ_SHIFT), fits 64 bits */
#error "HZ_SQ_SHIFT is too small for HZ_FRAME_SIZE samples of HZ_SIGNAL_BITS: regenerate heartzoo_contract.h"
#endif
#else
typedef float hz_sample_t; /* millivolts */
typedef float hz_value_t;
typedef float hz_z_t;
#endif

/* -- results ---------------------------------------------------------------------------------------- */
#define HZ_OK 0
#define HZ_ERR_ORDER (-1) /* an R peak not after the previous one (the same peak twice too) */
#define HZ_ERR_FULL (-2)  /* HZ_MAX_PEAKS peaks already wait: the peak is dropped */
#define HZ_ERR_LATE (-3)  /* the beat's frame has left the ring buffer: the beat is dropped */
#define HZ_ERR_ENDED (-4) /* a sample or peak after hz_pre_finish() */
#define HZ_ERR_FUTURE (-5) /* an R peak at a sample not pushed yet (index >= samples pushed): dropped */
#define HZ_ERR_WRAP (-6)   /* HZ_MAX_SAMPLES samples pushed: restart the stream (see above) */
#define HZ_ERR_RANGE (-7)  /* a sample outside +-2^(HZ_ADC_BITS - 1) counts (fixed point; pushed clipped)
                            * or not a finite number (float; pushed as 0): the stream goes on */

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
  uint16_t rr[HZ_RR_LONG]; /* the last RR intervals "before" (input samples, <= 65535), at beat % 300 */
  uint32_t rr_sum_short, rr_sum_long;
  uint16_t rr_pos;
#if HZ_RR_MEDIAN
  uint16_t rr_sorted[HZ_RR_LONG]; /* the same intervals in ascending order (the running median) */
#endif
#endif
#if HZ_TEMPLATE_BEATS > 0
  hz_z_t tpl[HZ_TEMPLATE_BEATS][HZ_FRAME_SIZE]; /* the last z-scored frames made (dropped beats have none) */
  uint16_t tpl_pos; /* the slot of the next frame: the oldest */
  uint16_t tpl_n;   /* frames in the slots, up to HZ_TEMPLATE_BEATS */
#if HZ_TEMPLATE_ON_TIME
  hz_z_t tpl_next[HZ_FRAME_SIZE]; /* the last frame made, until its RR interval says whether it enters */
  uint8_t tpl_next_valid;
#endif
#endif
} hz_pre_t;

void hz_pre_init(hz_pre_t *s);
/* One sample of the recording's lead, at HZ_RECORDING_HZ (float: mV; fixed point: ADC counts minus the
 * baseline, at the gain heartzoo_contract.h names). HZ_OK, HZ_ERR_ENDED, HZ_ERR_WRAP, or HZ_ERR_RANGE
 * (the sample was pushed clipped, or as 0: the beats around it are not what Python gives). */
int hz_pre_push_sample(hz_pre_t *s, hz_sample_t x);
/* An R peak at input sample `index` (0 = the first sample pushed; a sample already pushed). HZ_OK, or
 * HZ_ERR_ORDER, HZ_ERR_FUTURE, HZ_ERR_FULL, HZ_ERR_ENDED: the peak is dropped, the stream goes on. */
int hz_pre_push_peak(hz_pre_t *s, uint32_t index);
/* The end of the recording: the signal is zero after it (as for Python's resampler), frames past it
 * are padded with the last sample, the last beat takes its RR interval "after" from "before". */
void hz_pre_finish(hz_pre_t *s);
/* 1 and the oldest ready beat's inputs (ecg: HZ_ECG_LEN int8, rr: HZ_RR_LEN int8 or NULL without RR
 * features; peak: its R-peak index, may be NULL), 0 when no beat is ready, or HZ_ERR_LATE with the
 * dropped beat's R peak in *peak (push it to hz_vrun_push as -1: unclassified). */
int hz_pre_pop(hz_pre_t *s, int8_t *ecg, int8_t *rr, uint32_t *peak);

/* The model's int8 output: the class with the highest probability, and the probabilities
 * p = (q - zero_point) * scale (float build: floats; fixed point: Q15). */
int hz_argmax(const int8_t *q);
#if HZ_FIXED_POINT
void hz_probabilities_q15(const int8_t *q, int16_t *p);
#else
void hz_probabilities(const int8_t *q, float *p);
#endif
#ifdef HZ_S_CLASS
/* The class of a beat inside atrial fibrillation (a model with N and S classes): AAMI defines no S beat
 * there, so its S probability is moved to N, as `heartzoo annotate --rhythm` reads it
 * (heartzoo.recording.rhythm_annotation.s_in_af_to_n): a beat called V by less than its S probability
 * becomes N too, so keep a beat's int8 output until the AF kit has classified the window that holds it. */
int hz_argmax_in_af(const int8_t *q);
#endif
#ifdef HZ_READABLE_CLASS
/* The quality gate (HZ_READABLE_CLASS): 1 when the window can be read, its P(readable) at least 0.5 as
 * heartzoo reads it; not hz_argmax, which int8 probabilities that do not sum to one may turn over. */
int hz_readable(const int8_t *q);
#endif

/* A recording's class from its windows, for a model labelled per recording (af-4; HZ_AGGREGATION > 0,
 * the contract's `aggregation`): 1, the argmax of the windows' mean probabilities; 2, mean+max, the
 * logistic map  logits = HZ_AGG_INTERCEPT + HZ_AGG_COEF . [log(mean + eps), log(max + eps)]  fitted on
 * validation recordings. Float arithmetic once per recording (software floating point in the fixed-point
 * build: the only floats there); logf for mean+max.
 *
 *   static hz_rec_t rec;  hz_rec_init(&rec);
 *   after each window's inference:  hz_rec_push(&rec, interpreter.output(0)->data.int8);
 *   at the recording's end:         cls = hz_rec_class(&rec, probs);   (probs may be NULL)
 * The windows, as heartzoo cuts a recording: HZ_WINDOW_SAMPLES stream samples each, one after another
 * from its start, whole windows only; a recording shorter than one is one window centred on it (the
 * kit's README). heartzoo classifies recordings of 9-61 s, the lengths the map was fitted on. */
#ifndef HZ_AGGREGATION
#define HZ_AGGREGATION 0 /* a beat model's contract: no recording to aggregate */
#endif
#if HZ_AGGREGATION
typedef struct {
  float sum[HZ_NUM_CLASSES]; /* the windows' probabilities, summed */
  float top[HZ_NUM_CLASSES]; /* and their largest */
  uint32_t windows;
} hz_rec_t;
void hz_rec_init(hz_rec_t *r);
void hz_rec_push(hz_rec_t *r, const int8_t *q);
/* the recording's class, -1 before any window; with p, its HZ_NUM_CLASSES probabilities */
int hz_rec_class(const hz_rec_t *r, float *p);
#endif

/* Runs of ventricular beats, for a model with a V class (HZ_V_CLASS), as `heartzoo annotate` reports
 * them (heartzoo.recording.ventricular_runs): HZ_VRUN_MIN_BEATS or more consecutive beats called V; above
 * HZ_VT_BPM, possible ventricular tachycardia. Integer arithmetic only.
 *
 *   static hz_vrun_t run;  hz_vrun_init(&run);
 *   after each beat, in order:  if (hz_vrun_push(&run, cls, peak, &done) && hz_vrun_tachycardia(&done)) ...
 *   at the recording's end, and at every restart of the stream (HZ_ERR_WRAP, a lead-off):
 *                               hz_vrun_end(&run, &done)
 * cls: the beat's class (hz_argmax), or -1 for a beat left unclassified or dropped (HZ_ERR_LATE): it ends
 * a run, as a beat not called V does; peak: its R peak, in samples of the input stream (HZ_RECORDING_HZ).
 * A run whose peaks go back (a restart inside it) is never VT: its length is unknown. */
#ifdef HZ_V_CLASS
typedef struct {
  uint32_t first; /* R peak of the run's first beat */
  uint32_t last;  /* and of its last */
  uint32_t beats;
} hz_vrun_t;
void hz_vrun_init(hz_vrun_t *r);
/* 1 when this beat ends a run (the run in *done), else 0 */
int hz_vrun_push(hz_vrun_t *r, int cls, uint32_t peak, hz_vrun_t *done);
/* 1 when the recording ends inside a run (the run in *done), else 0; the tracker starts again */
int hz_vrun_end(hz_vrun_t *r, hz_vrun_t *done);
/* 1 when the run is faster than HZ_VT_BPM: 60 (beats - 1) / ((last - first) / HZ_RECORDING_HZ) */
int hz_vrun_tachycardia(const hz_vrun_t *run);
#endif

/* AF over a long recording, for a model labelled per recording with an AF class (HZ_AF_CLASS), as
 * `heartzoo annotate --rhythm` reports it (heartzoo.recording.af_burden): the AF burden (the windows called
 * AF over those not called too noisy, HZ_NOISE_CLASS) and the AF episodes, runs of consecutive windows
 * called AF, of HZ_AF_EPISODE_S seconds or more (clinical AF by the ESC guidelines). Integer arithmetic.
 *
 *   static hz_af_t af;  hz_af_init(&af);
 *   after each window's class:  if (hz_af_push(&af, cls)) ...  (an AF episode just reached HZ_AF_EPISODE_S)
 *   at any time:                hz_af_burden_bp(&af), af.episodes, af.longest
 * cls: the window's class as hz_rec_class gives it for a recording of that one window (hz_rec_init,
 * hz_rec_push, hz_rec_class), or HZ_NOISE_CLASS for a window the quality gate could not read at all.
 * Each window counts HZ_FRAME_SIZE samples at HZ_MODEL_HZ: push whole, consecutive windows only (Python
 * reads a recording's last, partial stretch in a window overlapping the one before and counts only its
 * new seconds; a stream has no such window). */
#ifdef HZ_AF_CLASS
typedef struct {
  uint32_t windows;    /* windows read: not called too noisy */
  uint32_t af_windows; /* of them, called AF */
  uint32_t run;        /* windows in the AF run going on (0: none) */
  uint32_t longest;    /* windows in the longest AF run so far */
  uint32_t episodes;   /* AF runs that reached HZ_AF_EPISODE_S */
} hz_af_t;
void hz_af_init(hz_af_t *a);
/* 1 when this window makes the AF run going on an episode of HZ_AF_EPISODE_S (once a run), else 0 */
int hz_af_push(hz_af_t *a, int cls);
/* the AF burden in basis points (1/10,000) of the windows read, rounded down; 0 before any */
uint32_t hz_af_burden_bp(const hz_af_t *a);
#endif

#ifdef __cplusplus
}
#endif

#endif /* HEARTZOO_PREPROCESS_H_ */
