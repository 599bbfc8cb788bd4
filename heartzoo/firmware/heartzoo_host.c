/* heartzoo_host.c: runs the C preprocessing on the host, as firmware would, for heartzoo's agreement
 * tests and benchmark (heartzoo.export.firmware_host). Not part of a firmware kit.
 *
 *   heartzoo_host IN OUT PEAK_DELAY [PAUSE_EVERY PAUSE_LEN]
 *
 * IN: int32 records; per record int32 samples, int32 peaks, the samples (float32 mV, or int16 counts
 * in the fixed-point build) and the R peaks (uint32 input indices, in order). Each sample is pushed,
 * each peak PEAK_DELAY samples after its own (as a QRS detector finds it), and beats are popped after
 * every sample (with PAUSE_EVERY and PAUSE_LEN, samples: not while i % PAUSE_EVERY < PAUSE_LEN, as an
 * application busy elsewhere, so that beats whose frames leave the ring are dropped); hz_pre_finish()
 * ends each record. OUT: per record int32 beats, int32 dropped, then per
 * beat uint32 peak, int8 ecg[HZ_ECG_LEN], int8 rr[HZ_RR_LEN]. stdout: one JSON line of timings (CPU
 * seconds of the streaming, reading and writing files left out). */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heartzoo_preprocess.h"

static hz_pre_t pre;

typedef struct {
  uint32_t peak;
  int8_t ecg[HZ_ECG_LEN];
  int8_t rr[HZ_RR_LEN];
} beat_t;

static int read_all(FILE *f, void *p, size_t size, size_t n) { return fread(p, size, n, f) == n; }

/* every beat ready (there are never more beats than peaks: `cap`) */
static void pop_all(beat_t *beats, int32_t *n, int32_t cap, int32_t *dropped) {
  int r;
  while (*n < cap && (r = hz_pre_pop(&pre, beats[*n].ecg, beats[*n].rr, &beats[*n].peak)) != 0) {
    if (r > 0)
      (*n)++;
    else
      (*dropped)++;
  }
}

int main(int argc, char **argv) {
  FILE *in, *out;
  int32_t records, r;
  long delay, pause_every = 0, pause_len = 0;
  double seconds = 0.0;
  long long total_beats = 0, total_samples = 0;
  if (argc != 4 && argc != 6) {
    fprintf(stderr, "usage: %s IN OUT PEAK_DELAY [PAUSE_EVERY PAUSE_LEN]\n", argv[0]);
    return 2;
  }
  delay = atol(argv[3]);
  if (argc == 6) {
    pause_every = atol(argv[4]);
    pause_len = atol(argv[5]);
    if (pause_every <= 0) return 2;
  }
  in = fopen(argv[1], "rb");
  out = fopen(argv[2], "wb");
  if (!in || !out || !read_all(in, &records, 4, 1)) return 3;
  for (r = 0; r < records; r++) {
    int32_t n_samples, n_peaks, n = 0, dropped = 0, i, k = 0;
    hz_sample_t *x;
    uint32_t *peaks;
    beat_t *beats;
    struct timespec t0, t1;
    if (!read_all(in, &n_samples, 4, 1) || !read_all(in, &n_peaks, 4, 1)) return 3;
    x = (hz_sample_t *)malloc(sizeof(hz_sample_t) * (size_t)(n_samples ? n_samples : 1));
    peaks = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(n_peaks ? n_peaks : 1));
    beats = (beat_t *)malloc(sizeof(beat_t) * (size_t)(n_peaks ? n_peaks : 1));
    if (!x || !peaks || !beats) return 4;
    if (!read_all(in, x, sizeof(hz_sample_t), (size_t)n_samples) ||
        !read_all(in, peaks, 4, (size_t)n_peaks))
      return 3;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    hz_pre_init(&pre);
    for (i = 0; i < n_samples; i++) {
      hz_pre_push_sample(&pre, x[i]);
      while (k < n_peaks && (long)peaks[k] + delay <= (long)i) {
        if (hz_pre_push_peak(&pre, peaks[k]) != HZ_OK) dropped++;
        k++;
      }
      if (pause_every == 0 || (long)i % pause_every >= pause_len) pop_all(beats, &n, n_peaks, &dropped);
    }
    for (; k < n_peaks; k++)
      if (hz_pre_push_peak(&pre, peaks[k]) != HZ_OK) dropped++;
    hz_pre_finish(&pre);
    pop_all(beats, &n, n_peaks, &dropped);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    seconds += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    total_beats += n;
    total_samples += n_samples;
    fwrite(&n, 4, 1, out);
    fwrite(&dropped, 4, 1, out);
    for (i = 0; i < n; i++) {
      fwrite(&beats[i].peak, 4, 1, out);
      fwrite(beats[i].ecg, 1, HZ_ECG_LEN, out);
      fwrite(beats[i].rr, 1, HZ_RR_LEN, out);
    }
    free(x);
    free(peaks);
    free(beats);
  }
  fclose(in);
  if (fclose(out) != 0) return 5;
  printf("{\"records\": %d, \"samples\": %lld, \"beats\": %lld, \"seconds\": %.9f, \"state_bytes\": %u}\n",
         (int)records, total_samples, total_beats, seconds, (unsigned)sizeof(hz_pre_t));
  return 0;
}
