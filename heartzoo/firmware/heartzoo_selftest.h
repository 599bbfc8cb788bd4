/* heartzoo_selftest.h: the firmware kit's golden check of the C preprocessing (no TFLM needed). */
#ifndef HEARTZOO_SELFTEST_H_
#define HEARTZOO_SELFTEST_H_

#define HZ_SELFTEST_SKIPPED (-2) /* the kit's recording rate is not the golden recording's */
#define HZ_SELFTEST_BEATS (-1)   /* the preprocessing gave another number of beats */
#define HZ_SELFTEST_RANGE (-3)   /* a golden sample outside the kit's ADC range (HZ_ADC_BITS, HZ_COUNTS_PER_MV) */

#ifdef __cplusplus
extern "C" {
#endif

/* Streams the golden recording through the C preprocessing and compares each beat's int8 inputs with
 * the golden ones: the number of int8 elements off by more than the build's tolerance (0: passed; the
 * float build with HZ_DOUBLE is exact, the others may be off by one step), or one of the
 * HZ_SELFTEST_ codes. `largest` (may be NULL): the largest difference seen, in steps. */
int heartzoo_preprocess_selftest(int *largest);

#ifdef __cplusplus
}
#endif

#endif /* HEARTZOO_SELFTEST_H_ */
