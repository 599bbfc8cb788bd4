/* heartzoo_preprocess.c: see heartzoo_preprocess.h. Generated kits copy this file unchanged; the model's
 * numbers come from heartzoo_contract.h, the resampling filter from heartzoo_taps.h.
 *
 * Build with -std=c99 -ffp-contract=off (and -fno-math-errno on an FPU core): the float build repeats
 * numpy's float32 operations one by one, and a fused multiply-add would round differently; never with
 * -ffast-math. The fixed-point build shifts negative integers right, arithmetically (GCC, Clang and
 * Arm Compiler all do). */
#include "heartzoo_preprocess.h"

#include <float.h>
#include <string.h>

#if !HZ_FIXED_POINT && defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "float expressions must be evaluated in float (FLT_EVAL_METHOD 0): use SSE, not x87, on x86"
#endif
#if !HZ_FIXED_POINT && defined(__FAST_MATH__)
/* -ffast-math reorders and fuses float steps: the self-test then fails on a correct port */
#error "the float preprocessing repeats numpy's float32 steps: compile it without -ffast-math"
#endif

#if HZ_FIXED_POINT && HZ_AGGREGATION == 2
#include <math.h> /* logf, expf: a recording's mean+max, once per recording (soft float on a Cortex-M0+) */
#endif

#if HZ_FIXED_POINT
typedef int32_t hz_tap_t; /* Q30 */
typedef int64_t hz_acc_t;
#else
#include <math.h> /* sqrtf: one VSQRT on a Cortex-M4F with -fno-math-errno */
#if HZ_DOUBLE
typedef double hz_tap_t;
typedef double hz_acc_t;
#else
typedef float hz_tap_t;
typedef float hz_acc_t;
#endif
#endif

#include "heartzoo_taps.h" /* static const hz_tap_t hz_taps[HZ_UP][HZ_TAPS_PER_PHASE] */

/* -- resampling ------------------------------------------------------------------------------------- */
/* Output m of resample_poly is sum_i h[p + i*up] * x[jmax - i], with t = m*down + half_len on the
 * upsampled grid, jmax = t / up and p = t % up; x is zero before the first and after the last sample.
 * (jmax, p) of the next output are kept in fir_j, fir_p: outputs are made as soon as x[jmax] arrived. */
static hz_value_t fir_output(hz_pre_t *s) {
#if HZ_TAPS_PER_PHASE > 0
  const hz_tap_t *h = hz_taps[s->fir_p];
  hz_acc_t acc = 0;
  uint32_t i;
  if (s->fir_j >= HZ_TAPS_PER_PHASE - 1 && s->fir_j < s->n_in) {
    for (i = 0; i < HZ_TAPS_PER_PHASE; i++) acc += h[i] * (hz_acc_t)s->hist[(s->fir_j - i) & (HZ_HIST - 1)];
  } else { /* the first samples, or the end: zero outside the recording */
    for (i = 0; i < HZ_TAPS_PER_PHASE && i <= s->fir_j; i++) {
      uint32_t j = s->fir_j - i;
      if (j < s->n_in) acc += h[i] * (hz_acc_t)s->hist[j & (HZ_HIST - 1)];
    }
  }
  s->fir_p += HZ_DOWN;
  while (s->fir_p >= HZ_UP) {
    s->fir_p -= HZ_UP;
    s->fir_j++;
  }
#if HZ_FIXED_POINT
  /* Q30 taps x counts -> counts in Q(HZ_SIGNAL_Q) */
  return (hz_value_t)((acc + ((hz_acc_t)1 << (29 - HZ_SIGNAL_Q))) >> (30 - HZ_SIGNAL_Q));
#else
  return (hz_value_t)acc;
#endif
#else /* the recording is at the model's rate: no resampling */
  hz_sample_t x = s->hist[s->fir_j & (HZ_HIST - 1)];
  s->fir_j++;
#if HZ_FIXED_POINT
  return (hz_value_t)x * ((hz_value_t)1 << HZ_SIGNAL_Q);
#else
  return x;
#endif
#endif
}

static void emit_output(hz_pre_t *s) {
  hz_value_t y = fir_output(s);
  if (s->n_out == 0) s->first = y;
  s->ring[s->ring_w] = y;
  if (++s->ring_w == HZ_RING) s->ring_w = 0;
  s->n_out++;
}

void hz_pre_init(hz_pre_t *s) {
  memset(s, 0, sizeof(*s));
  s->fir_j = HZ_J0;
  s->fir_p = HZ_P0;
}

int hz_pre_push_sample(hz_pre_t *s, hz_sample_t x) {
  int status = HZ_OK;
  if (s->finished) return HZ_ERR_ENDED;
  if (s->n_in >= HZ_MAX_SAMPLES) return HZ_ERR_WRAP;
  /* the sample is pushed whatever it is (a dropped one would shift every R peak after it): one the
   * arithmetic is not sized for is clipped to the ADC's range, or read as 0 where it is no number */
#if HZ_FIXED_POINT && HZ_ADC_BITS < 16 /* an int16 sample always fits 16 bits */
  if (x > (1 << (HZ_ADC_BITS - 1)) || x < -(1 << (HZ_ADC_BITS - 1))) {
    x = (hz_sample_t)(x > 0 ? (1 << (HZ_ADC_BITS - 1)) : -(1 << (HZ_ADC_BITS - 1)));
    status = HZ_ERR_RANGE;
  }
#elif !HZ_FIXED_POINT
  if (!(x == x) || x > FLT_MAX || x < -FLT_MAX) {
    x = 0.0f;
    status = HZ_ERR_RANGE;
  }
#endif
  s->hist[s->n_in & (HZ_HIST - 1)] = x;
  s->n_in++;
  while (s->fir_j < s->n_in) emit_output(s);
  return status;
}

void hz_pre_finish(hz_pre_t *s) {
  if (s->finished) return;
  /* Python's resampled length: ceil(n_in * up / down) */
  s->n_out_total = (uint32_t)(((uint64_t)s->n_in * HZ_UP + HZ_DOWN - 1) / HZ_DOWN);
  while (s->n_out < s->n_out_total) emit_output(s);
  s->last = s->ring[s->ring_w == 0 ? HZ_RING - 1 : s->ring_w - 1];
  s->finished = 1;
}

int hz_pre_push_peak(hz_pre_t *s, uint32_t index) {
  uint16_t tail;
  if (s->finished) return HZ_ERR_ENDED;
  if (index >= s->n_in) return HZ_ERR_FUTURE; /* it would wait at the head of the queue forever */
  if (s->any_peak && index <= s->last_peak) return HZ_ERR_ORDER; /* the same peak twice too */
  if (s->peak_count == HZ_MAX_PEAKS) return HZ_ERR_FULL;
  tail = (uint16_t)((s->peak_head + s->peak_count) % HZ_MAX_PEAKS);
  s->peaks[tail] = index;
  s->peak_count++;
  s->last_peak = index;
  s->any_peak = 1;
  return HZ_OK;
}

/* -- one frame -------------------------------------------------------------------------------------- */
/* The frame of a beat: resampled samples start .. start + T - 1, the first sample before the recording,
 * the last one after it (np.pad mode "edge"). */
typedef struct {
  const hz_value_t *direct; /* the frame, when it lies whole and unwrapped in the ring (most frames) */
  const hz_value_t *ring;
  int32_t lead;  /* frame samples before the recording */
  int32_t n_mid; /* then samples in the ring, from ring[base] */
  uint32_t base;
  hz_value_t first, last;
} hz_view_t;

static hz_value_t at(const hz_view_t *v, int32_t i) {
  uint32_t k;
  if (v->direct) return v->direct[i];
  if (i < v->lead) return v->first;
  i -= v->lead;
  if (i >= v->n_mid) return v->last;
  k = v->base + (uint32_t)i;
  return v->ring[k >= HZ_RING ? k - HZ_RING : k];
}

/* The centre of a beat at the model rate: rint(index * fs_out / fs_in), halves to even. */
static uint32_t centre_of(uint32_t index) {
  uint64_t num = (uint64_t)index * HZ_UP;
  uint32_t c = (uint32_t)(num / HZ_DOWN), r = (uint32_t)(num % HZ_DOWN);
  if (2u * r > HZ_DOWN || (2u * r == HZ_DOWN && (c & 1u))) c++;
  return c;
}

/* 1 if the frame is complete (0 if not yet, HZ_ERR_LATE if gone), and its view. */
static int frame_view(const hz_pre_t *s, uint32_t peak, hz_view_t *v) {
  int64_t start, end, lo, hi;
  uint32_t c = centre_of(peak);
  if (s->finished && c + 1 > s->n_out_total) c = s->n_out_total ? s->n_out_total - 1 : 0;
  start = (int64_t)c - HZ_R_PEAK_INDEX;
  end = start + HZ_FRAME_SIZE;
  if (!s->finished && end > (int64_t)s->n_out) return 0;
  lo = start < 0 ? 0 : start;
  hi = end > (int64_t)s->n_out ? (int64_t)s->n_out : end;
  if (lo < (int64_t)s->n_out - HZ_RING) return HZ_ERR_LATE;
  v->ring = s->ring;
  v->lead = (int32_t)(lo - start);
  v->n_mid = hi > lo ? (int32_t)(hi - lo) : 0;
  /* output n sits at (n - n_out + ring_w) mod HZ_RING; here 0 <= lo - n_out + HZ_RING < HZ_RING */
  v->base = (uint32_t)(lo - (int64_t)s->n_out + HZ_RING) + s->ring_w;
  if (v->base >= HZ_RING) v->base -= HZ_RING;
  v->first = s->first;
  v->last = s->last;
  v->direct = v->lead == 0 && v->n_mid == HZ_FRAME_SIZE && v->base + HZ_FRAME_SIZE <= HZ_RING ? s->ring + v->base : 0;
  return 1;
}

static int8_t clip8(int32_t q) { return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q); }

#if HZ_TEMPLATE_BEATS > 0
/* the frame in slot tpl_pos joins the template: the ring moves on */
static void tpl_enter(hz_pre_t *s) {
  if (++s->tpl_pos == HZ_TEMPLATE_BEATS) s->tpl_pos = 0;
  if (s->tpl_n < HZ_TEMPLATE_BEATS) s->tpl_n++;
}
/* after make_frame wrote a frame into the template ring (a dropped beat writes none, and moves nothing);
 * with HZ_TEMPLATE_ON_TIME, make_frame writes it aside and make_rr lets it in when the beat came on time */
static void tpl_advance(hz_pre_t *s) {
#if HZ_TEMPLATE_ON_TIME
  s->tpl_next_valid = 1;
#else
  tpl_enter(s);
#endif
}
/* the slot make_frame writes the frame's z-scores to */
#if HZ_TEMPLATE_ON_TIME
#define TPL_SLOT(s) ((s)->tpl_next)
#else
#define TPL_SLOT(s) ((s)->tpl[(s)->tpl_pos])
#endif
#endif

#if HZ_FIXED_POINT
#if HZ_ZSCORE || HZ_TEMPLATE_BEATS > 0
/* a / b rounded half away from zero (b > 0) */
static int64_t div_round(int64_t a, int64_t b) { return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b); }
#endif

#if HZ_ZSCORE
static uint32_t isqrt64(uint64_t v) { /* round(sqrt(v)) */
  uint64_t r = 0, bit = (uint64_t)1 << 62;
  while (bit > v) bit >>= 2;
  while (bit) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return (uint32_t)(v > r ? r + 1 : r);
}
#endif

static int8_t quantize_z(int64_t z) { /* z in Q24, |z| < 2^32 -> round(z / scale) + zero_point */
  int64_t q = (z * HZ_ECG_MULT + ((int64_t)1 << (HZ_ECG_SHIFT - 1))) >> HZ_ECG_SHIFT;
  return clip8((int32_t)(q < -1000 ? -1000 : q > 1000 ? 1000 : q) + HZ_ECG_ZERO_POINT);
}

static void make_frame(hz_pre_t *s, const hz_view_t *v, int8_t *out) {
  int32_t i, mean = 0, b = 0;
  uint64_t den, mult;
  unsigned sh;
#if HZ_ZSCORE
  int64_t sum = 0;
  uint64_t sq = 0;
  for (i = 0; i < HZ_FRAME_SIZE; i++) sum += at(v, i);
  mean = (int32_t)div_round(sum, HZ_FRAME_SIZE);
  for (i = 0; i < HZ_FRAME_SIZE; i++) {
    int64_t d0 = (int64_t)(at(v, i) - mean); /* |d0| < 2^(HZ_SIGNAL_BITS + 1) <= 2^31: int32 */
    /* Q2Q -> Q(2Q - HZ_SQ_SHIFT): the sum is below T 2^(2 HZ_SIGNAL_BITS - HZ_SQ_SHIFT) < 2^64, as the
     * header checks (heartzoo_contract.h picks the shift for the frame size and the ADC's bits) */
    sq += (uint64_t)(d0 * d0) >> HZ_SQ_SHIFT;
  }
  den = (uint64_t)isqrt64((sq / HZ_FRAME_SIZE) << HZ_SQ_SHIFT) + HZ_EPS_Q; /* std + eps, counts in Q */
#else
  den = HZ_GAIN_Q; /* counts per mV: z is the signal in mV */
#endif
  /* z = d / den in Q24 through a multiplier of 31 bits: mult = 2^sh / den */
  while (b < 32 && (den >> b) > 1) b++;
  sh = (unsigned)(31 + b);
  mult = ((uint64_t)1 << sh) / den;
  for (i = 0; i < HZ_FRAME_SIZE; i++) {
    int64_t d = (int64_t)(at(v, i) - mean);
    /* |z| < 2^31: below sqrt(T) (T <= 16384) with the z-score, below 128 mV without (both checked by
     * heartzoo_contract.h's generator) */
    hz_z_t z = (hz_z_t)((d * (int64_t)mult + ((int64_t)1 << (sh - 25))) >> (sh - 24));
#if HZ_TEMPLATE_BEATS > 0
    uint32_t k, n = s->tpl_n; /* the slots 0 .. n - 1 hold frames (all of them once n is full) */
    int64_t t = 0;
    for (k = 0; k < n; k++) t += s->tpl[k][i];
    out[i * 2] = quantize_z(z);
    out[i * 2 + 1] = quantize_z(n ? (int64_t)z - div_round(t, n) : 0);
    TPL_SLOT(s)[i] = z;
#else
    (void)s;
    out[i] = quantize_z(z);
#endif
  }
#if HZ_TEMPLATE_BEATS > 0
  tpl_advance(s);
#endif
}
#else /* float */

#if HZ_ZSCORE
/* numpy's pairwise float32 sum (numpy/_core/src/umath/loops_utils.h.src), of x, x - a or (x - a - b)^2 */
static float val(const hz_view_t *v, int32_t i, int mode, float a, float b) {
  float x = at(v, i), d;
  if (mode == 0) return x;
  x = x - a;
  if (mode == 1) return x;
  d = x - b;
  return d * d;
}

static float pairwise(const hz_view_t *v, int32_t lo, int32_t n, int mode, float a, float b) {
  int32_t i, k, n2;
  float r[8], res = 0.0f;
  if (n < 8) {
    for (i = 0; i < n; i++) res += val(v, lo + i, mode, a, b);
    return res;
  }
  if (n <= 128) {
    for (k = 0; k < 8; k++) r[k] = val(v, lo + k, mode, a, b);
    for (i = 8; i < n - (n % 8); i += 8)
      for (k = 0; k < 8; k++) r[k] += val(v, lo + i + k, mode, a, b);
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += val(v, lo + i, mode, a, b);
    return res;
  }
  n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise(v, lo, n2, mode, a, b) + pairwise(v, lo + n2, n - n2, mode, a, b);
}
#endif

static int32_t round_even(float x) { /* np.round: halves to even (default rounding mode) */
  if (!(x == x)) return 0;
  if (x > 4.0e6f) x = 4.0e6f;
  if (x < -4.0e6f) x = -4.0e6f;
  x = (x + 12582912.0f) - 12582912.0f; /* 1.5 * 2^23: rounds to an integer */
  return (int32_t)x;
}

static int8_t quantize(float x, float scale, int32_t zero_point) {
  return clip8(round_even(x / scale) + zero_point);
}

static void make_frame(hz_pre_t *s, const hz_view_t *v, int8_t *out) {
  int32_t i;
#if HZ_ZSCORE /* numpy: x -= x.mean(); x /= x.std() + eps, where std() takes the mean again */
  const float n = (float)HZ_FRAME_SIZE;
  float mean, mean2, var, den;
  mean = (0.0f + pairwise(v, 0, HZ_FRAME_SIZE, 0, 0.0f, 0.0f)) / n;
  mean2 = (0.0f + pairwise(v, 0, HZ_FRAME_SIZE, 1, mean, 0.0f)) / n;
  var = (0.0f + pairwise(v, 0, HZ_FRAME_SIZE, 2, mean, mean2)) / n;
  den = sqrtf(var) + HZ_EPS;
#endif
  for (i = 0; i < HZ_FRAME_SIZE; i++) {
#if HZ_ZSCORE
    float z = (at(v, i) - mean) / den;
#else
    float z = at(v, i);
#endif
#if HZ_TEMPLATE_BEATS > 0
    uint32_t k, cnt = s->tpl_n;
    hz_acc_t t = 0;
    for (k = 0; k < cnt; k++) { /* oldest first */
      uint32_t slot = (s->tpl_pos + HZ_TEMPLATE_BEATS - cnt + k) % HZ_TEMPLATE_BEATS;
      t += s->tpl[slot][i];
    }
    out[i * 2] = quantize(z, HZ_ECG_SCALE, HZ_ECG_ZERO_POINT);
    out[i * 2 + 1] = quantize(cnt ? z - (float)(t / (hz_acc_t)cnt) : 0.0f, HZ_ECG_SCALE, HZ_ECG_ZERO_POINT);
    TPL_SLOT(s)[i] = z;
#else
    (void)s;
    out[i] = quantize(z, HZ_ECG_SCALE, HZ_ECG_ZERO_POINT);
#endif
  }
#if HZ_TEMPLATE_BEATS > 0
  tpl_advance(s);
#endif
}
#endif

/* -- RR features ------------------------------------------------------------------------------------ */
#if HZ_RR_FEATURES
/* RR intervals are held in 16 bits: longer than 65535 input samples counts as 65535 (Python: whole) */
static uint16_t sat16(uint32_t v) { return (uint16_t)(v > 65535u ? 65535u : v); }

#if HZ_FIXED_POINT
/* round(interval / (sum / n + eps * fs) / scale) + zero_point, in integers: n and sum in input samples */
static int8_t rr_ratio(uint32_t interval, uint32_t sum, uint32_t n) {
  uint64_t num = (uint64_t)interval * n * HZ_RR_MULT; /* HZ_RR_MULT = round(2^HZ_RR_SHIFT / scale) */
  uint64_t den = (((uint64_t)sum << 16) + (uint64_t)HZ_RR_EPS_Q16 * n) << (HZ_RR_SHIFT - 16);
  uint64_t q = (num + den / 2) / den;
  return clip8((int32_t)(q > 1000 ? 1000 : q) + HZ_RR_ZERO_POINT);
}
#else
static int8_t rr_ratio(uint32_t interval, uint32_t sum, uint32_t n) {
  float x = (float)interval / (float)HZ_RECORDING_HZ;
  float mean = (float)sum / (float)(n * HZ_RECORDING_HZ);
  return quantize(x / (mean + HZ_RR_EPS), HZ_RR_SCALE, HZ_RR_ZERO_POINT);
}
#endif

#if HZ_TEMPLATE_ON_TIME
/* the beat came on time: interval / (sum / n + eps * fs) >= HZ_TEMPLATE_SHARE, as rr_ratio computes the
 * ratio before it quantizes it (Python: heartzoo.preprocess.on_time) */
#if HZ_FIXED_POINT
static int on_time(uint32_t interval, uint32_t sum, uint32_t n) { /* share in Q20; < 2^62 both sides */
  uint64_t lhs = ((uint64_t)interval * n) << 36;
  uint64_t rhs = (uint64_t)HZ_TEMPLATE_SHARE_Q20 * (((uint64_t)sum << 16) + (uint64_t)HZ_RR_EPS_Q16 * n);
  return lhs >= rhs;
}
#else
static int on_time(uint32_t interval, uint32_t sum, uint32_t n) {
  float x = (float)interval / (float)HZ_RECORDING_HZ;
  float mean = (float)sum / (float)(n * HZ_RECORDING_HZ);
  return x / (mean + HZ_RR_EPS) >= HZ_TEMPLATE_SHARE;
}
#endif
#endif

#if HZ_RR_IRREGULARITY
/* irregularity10: the lower median of |successive differences| of the last m intervals "before" in the
 * ring (this beat's own not yet in it) over their mean; m = min(beats, HZ_RR_IRREGULARITY_BEATS) */
static int8_t irregularity(const hz_pre_t *s) {
  uint32_t m = s->beats < HZ_RR_IRREGULARITY_BEATS ? s->beats : HZ_RR_IRREGULARITY_BEATS;
  uint16_t d[HZ_RR_IRREGULARITY_BEATS];
  uint32_t sum = 0, i, j;
  uint16_t prev = 0, v;
  if (m < 2) return rr_ratio(0, 1, 1);
  for (i = 0; i < m; ++i) { /* oldest first: ring slot rr_pos - m + i */
    v = s->rr[(s->rr_pos + HZ_RR_LONG - m + i) % HZ_RR_LONG];
    sum += v;
    if (i > 0) { /* insertion sort of the differences so far */
      uint16_t diff = (uint16_t)(v > prev ? v - prev : prev - v);
      for (j = i - 1; j > 0 && d[j - 1] > diff; --j) d[j] = d[j - 1];
      d[j] = diff;
    }
    prev = v;
  }
  return rr_ratio(d[(m - 2) / 2], sum, m);
}
#endif

#if HZ_RR_MEDIAN
/* the ring's intervals kept sorted: `n` of them; with `drop`, `old` leaves first (the ring was full),
 * then `v` goes in its place in the order (O(HZ_RR_LONG) moves a beat) */
static void sorted_put(uint16_t *sorted, uint32_t n, int drop, uint16_t old, uint16_t v) {
  uint32_t i = 0;
  if (drop) {
    while (i + 1 < n && sorted[i] != old) ++i;
    for (--n; i < n; ++i) sorted[i] = sorted[i + 1];
  }
  for (i = n; i > 0 && sorted[i - 1] > v; --i) sorted[i] = sorted[i - 1];
  sorted[i] = v;
}
#endif

static void make_rr(hz_pre_t *s, uint32_t peak, int has_next, uint32_t next, int8_t *out) {
  uint32_t pre, post, n_short, n_long, long_sum, long_n;
#if HZ_RR_HISTORY > 0
  uint16_t hist[HZ_RR_HISTORY];
  uint32_t j;
#endif
  if (s->beats == 0) {
    pre = has_next ? next - peak : 0; /* a recording of one beat: all zero */
  } else {
    pre = peak - s->prev_peak;
  }
  post = has_next ? next - peak : pre;
  pre = sat16(pre);
  post = sat16(post);
#if HZ_RR_IRREGULARITY
  out[4] = irregularity(s);
#endif
#if HZ_RR_HISTORY > 0
  /* the intervals "before" of the last beats, newest first, from the ring before this one joins it
   * (HZ_RR_HISTORY <= 32 < HZ_RR_LONG); where the recording has fewer, the first beat's (at the first
   * beat, its own) */
  for (j = 1; j <= HZ_RR_HISTORY; ++j) {
    uint32_t back = j <= s->beats ? j : s->beats;
    hist[j - 1] = back ? s->rr[(s->rr_pos + HZ_RR_LONG - back) % HZ_RR_LONG] : (uint16_t)pre;
  }
#endif
  /* the running sums of the last HZ_RR_SHORT and HZ_RR_LONG intervals "before", this one included */
  if (s->beats >= HZ_RR_SHORT)
    s->rr_sum_short -= s->rr[(s->rr_pos + HZ_RR_LONG - HZ_RR_SHORT) % HZ_RR_LONG];
  if (s->beats >= HZ_RR_LONG) s->rr_sum_long -= s->rr[s->rr_pos];
#if HZ_RR_MEDIAN
  sorted_put(s->rr_sorted, s->beats < HZ_RR_LONG ? s->beats : HZ_RR_LONG, s->beats >= HZ_RR_LONG,
             s->rr[s->rr_pos], (uint16_t)pre);
#endif
  s->rr[s->rr_pos] = (uint16_t)pre;
  if (++s->rr_pos == HZ_RR_LONG) s->rr_pos = 0;
  s->rr_sum_short += pre;
  s->rr_sum_long += pre;
  n_short = s->beats + 1 < HZ_RR_SHORT ? s->beats + 1 : HZ_RR_SHORT;
  n_long = s->beats + 1 < HZ_RR_LONG ? s->beats + 1 : HZ_RR_LONG;
  out[0] = rr_ratio(pre, s->rr_sum_short, n_short);
  out[1] = rr_ratio(post, s->rr_sum_short, n_short);
#if HZ_RR_MEDIAN /* the long horizon: the lower median of the last n_long intervals, as a "mean" of one */
  long_sum = s->rr_sorted[(n_long - 1) / 2];
  long_n = 1;
#else
  long_sum = s->rr_sum_long;
  long_n = n_long;
#endif
  out[2] = rr_ratio(pre, long_sum, long_n);
  out[3] = rr_ratio(post, long_sum, long_n);
#if HZ_TEMPLATE_ON_TIME
  if (s->tpl_next_valid) { /* the frame make_frame put aside enters the template if its beat came on time */
    if (on_time(pre, long_sum, long_n)) {
      memcpy(s->tpl[s->tpl_pos], s->tpl_next, sizeof s->tpl_next);
      tpl_enter(s);
    }
    s->tpl_next_valid = 0;
  }
#endif
#if HZ_RR_HISTORY > 0
  for (j = 0; j < HZ_RR_HISTORY; ++j)
    out[4 + HZ_RR_IRREGULARITY + j] = rr_ratio(hist[j], long_sum, long_n);
#endif
}
#endif

/* -- beats ------------------------------------------------------------------------------------------ */
static void done(hz_pre_t *s, uint32_t peak) {
  s->peak_head = (uint16_t)((s->peak_head + 1) % HZ_MAX_PEAKS);
  s->peak_count--;
  s->prev_peak = peak;
  s->beats++; /* the template ring moves in make_frame: a dropped beat has no frame */
}

int hz_pre_pop(hz_pre_t *s, int8_t *ecg, int8_t *rr, uint32_t *peak_out) {
  uint32_t peak;
  hz_view_t v;
  int ok;
#if HZ_RR_FEATURES
  int has_next;
  uint32_t next;
  int8_t scratch[HZ_RR_LEN];
#endif
  if (s->peak_count == 0) return 0;
  peak = s->peaks[s->peak_head];
#if HZ_RR_FEATURES
  has_next = s->peak_count > 1;
  next = has_next ? s->peaks[(s->peak_head + 1) % HZ_MAX_PEAKS] : 0;
  if (!s->held_valid) {
    ok = frame_view(s, peak, &v);
    if (ok == 0) return 0;
    if (ok == HZ_ERR_LATE) { /* dropped; its RR interval still counts for the next beats */
      make_rr(s, peak, has_next, next, scratch);
      done(s, peak);
      if (peak_out) *peak_out = peak; /* which beat: a V run or a gate window may need it */
      return HZ_ERR_LATE;
    }
    if (!has_next && !s->finished) { /* the frame is complete, the next peak not yet known */
      make_frame(s, &v, s->held);
      s->held_valid = 1;
      return 0;
    }
    make_frame(s, &v, ecg);
  } else {
    if (!has_next && !s->finished) return 0;
    memcpy(ecg, s->held, HZ_ECG_LEN);
    s->held_valid = 0;
  }
  make_rr(s, peak, has_next, next, rr ? rr : scratch);
#else
  (void)rr;
  ok = frame_view(s, peak, &v);
  if (ok == 0) return 0;
  if (ok == HZ_ERR_LATE) {
    done(s, peak);
    if (peak_out) *peak_out = peak;
    return HZ_ERR_LATE;
  }
  make_frame(s, &v, ecg);
#endif
  done(s, peak);
  if (peak_out) *peak_out = peak;
  return 1;
}

/* -- outputs ---------------------------------------------------------------------------------------- */
int hz_argmax(const int8_t *q) {
  int k, best = 0;
  for (k = 1; k < HZ_NUM_CLASSES; k++)
    if (q[k] > q[best]) best = k;
  return best;
}

#ifdef HZ_S_CLASS
int hz_argmax_in_af(const int8_t *q) {
  int32_t v[HZ_NUM_CLASSES];
  int k, best = 0;
  /* the probabilities' common scale drops out: S's (q - zero point) added to N's, S's set to 0 */
  for (k = 0; k < HZ_NUM_CLASSES; k++) v[k] = (int32_t)q[k] - (int32_t)HZ_OUTPUT_ZERO_POINT;
  v[HZ_N_CLASS] += v[HZ_S_CLASS];
  v[HZ_S_CLASS] = 0;
  for (k = 1; k < HZ_NUM_CLASSES; k++)
    if (v[k] > v[best]) best = k;
  return best;
}
#endif

#ifdef HZ_READABLE_CLASS
int hz_readable(const int8_t *q) { return q[HZ_READABLE_CLASS] >= HZ_READABLE_MIN_Q; }
#endif

#if HZ_FIXED_POINT
void hz_probabilities_q15(const int8_t *q, int16_t *p) {
  int k;
  for (k = 0; k < HZ_NUM_CLASSES; k++) { /* (q - zero_point) * scale in Q15, scale in Q24 */
    int32_t v = (int32_t)(((int64_t)(q[k] - HZ_OUTPUT_ZERO_POINT) * HZ_OUTPUT_SCALE_Q24 + 256) >> 9);
    p[k] = (int16_t)(v > 32767 ? 32767 : v);
  }
}
#else
void hz_probabilities(const int8_t *q, float *p) {
  int k;
  for (k = 0; k < HZ_NUM_CLASSES; k++) p[k] = (float)(q[k] - HZ_OUTPUT_ZERO_POINT) * HZ_OUTPUT_SCALE;
}
#endif

#if HZ_AGGREGATION
void hz_rec_init(hz_rec_t *r) { memset(r, 0, sizeof *r); }

void hz_rec_push(hz_rec_t *r, const int8_t *q) {
  int k;
  for (k = 0; k < HZ_NUM_CLASSES; k++) { /* as numpy dequantizes: float32 (q - zero_point) * scale */
    float p = (float)(q[k] - HZ_OUTPUT_ZERO_POINT) * HZ_AGG_OUTPUT_SCALE;
    r->sum[k] += p;
    if (r->windows == 0 || p > r->top[k]) r->top[k] = p;
  }
  r->windows++;
}

int hz_rec_class(const hz_rec_t *r, float *p) {
  float z[HZ_NUM_CLASSES];
  int i, best = 0;
  if (r->windows == 0) return -1;
  for (i = 0; i < HZ_NUM_CLASSES; i++) z[i] = r->sum[i] / (float)r->windows;
#if HZ_AGGREGATION == 2
  {
    static const float coef[HZ_NUM_CLASSES][2 * HZ_NUM_CLASSES] = HZ_AGG_COEF;
    static const float intercept[HZ_NUM_CLASSES] = HZ_AGG_INTERCEPT;
    float f[2 * HZ_NUM_CLASSES], top = -FLT_MAX, total = 0.0f;
    int k;
    for (k = 0; k < HZ_NUM_CLASSES; k++) {
      f[k] = logf(z[k] + HZ_AGG_EPS);
      f[HZ_NUM_CLASSES + k] = logf(r->top[k] + HZ_AGG_EPS);
    }
    for (i = 0; i < HZ_NUM_CLASSES; i++) {
      z[i] = intercept[i];
      for (k = 0; k < 2 * HZ_NUM_CLASSES; k++) z[i] += coef[i][k] * f[k];
      if (z[i] > top) top = z[i];
    }
    for (i = 0; i < HZ_NUM_CLASSES; i++) total += (z[i] = expf(z[i] - top));
    for (i = 0; i < HZ_NUM_CLASSES; i++) z[i] /= total;
  }
#endif
  for (i = 1; i < HZ_NUM_CLASSES; i++)
    if (z[i] > z[best]) best = i;
  if (p)
    for (i = 0; i < HZ_NUM_CLASSES; i++) p[i] = z[i];
  return best;
}
#endif

#ifdef HZ_V_CLASS
void hz_vrun_init(hz_vrun_t *r) { memset(r, 0, sizeof *r); }

int hz_vrun_end(hz_vrun_t *r, hz_vrun_t *done) {
  int ended = r->beats >= HZ_VRUN_MIN_BEATS;
  if (ended) *done = *r;
  r->beats = 0;
  return ended;
}

int hz_vrun_push(hz_vrun_t *r, int cls, uint32_t peak, hz_vrun_t *done) {
  if (cls != HZ_V_CLASS) return hz_vrun_end(r, done);
  if (r->beats == 0) r->first = peak;
  r->last = peak;
  r->beats++;
  return 0;
}

int hz_vrun_tachycardia(const hz_vrun_t *run) {
  uint32_t span;
  /* no run, or one whose peaks went back (a stream restarted inside it, or its counts wrapped): its
   * length is unknown, so it is no VT (end a run at every restart: hz_vrun_end) */
  if (run->beats < 2u || run->last <= run->first) return 0;
  span = run->last - run->first;
  /* 60 (beats - 1) HZ_RECORDING_HZ / span > HZ_VT_BPM, in 64-bit integers (HZ_VT_BPM is whole) */
  return (uint64_t)60u * (run->beats - 1u) * (uint64_t)HZ_RECORDING_HZ > (uint64_t)HZ_VT_BPM * span;
}
#endif

#ifdef HZ_AF_CLASS
void hz_af_init(hz_af_t *a) { memset(a, 0, sizeof *a); }

int hz_af_push(hz_af_t *a, int cls) {
  if (cls != HZ_NOISE_CLASS) a->windows++;
  if (cls != HZ_AF_CLASS) {
    a->run = 0;
    return 0;
  }
  a->af_windows++;
  a->run++;
  if (a->run > a->longest) a->longest = a->run;
  /* run * HZ_FRAME_SIZE / HZ_MODEL_HZ seconds reach HZ_AF_EPISODE_S now, and did not a window before */
  if ((uint64_t)a->run * HZ_FRAME_SIZE >= (uint64_t)HZ_AF_EPISODE_S * HZ_MODEL_HZ &&
      (uint64_t)(a->run - 1u) * HZ_FRAME_SIZE < (uint64_t)HZ_AF_EPISODE_S * HZ_MODEL_HZ) {
    a->episodes++;
    return 1;
  }
  return 0;
}

uint32_t hz_af_burden_bp(const hz_af_t *a) {
  return a->windows ? (uint32_t)((uint64_t)a->af_windows * 10000u / a->windows) : 0u;
}
#endif
