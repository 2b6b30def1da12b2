/*
** device.h — the head of every CUDA source for NVRTC, before the kernel
** headers (whose <...> includes are dropped: NVRTC has no C library
** headers). It gives them the fixed-width types, the limits and float
** constants they use; the math functions are NVRTC's own device ones.
** Compiled with -default-device and -std=c++20 (the headers' designated
** initializers), so the headers' plain functions are
** device functions. Under SL_CUDA_HOST (host emulation) host.h takes its
** place.
*/
#ifndef SL_CUDA_DEVICE_H
#define SL_CUDA_DEVICE_H

typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef unsigned long size_t;

#define INT64_MAX 9223372036854775807LL
#define INT64_MIN (-INT64_MAX - 1)
#define INT32_MAX 2147483647
#define INT32_MIN (-INT32_MAX - 1)
#define UINT64_MAX 18446744073709551615ULL
/* constant expressions, so that pasted constants stay static initializers */
#define INFINITY __builtin_bit_cast(float, 0x7f800000u)
#define NAN __builtin_bit_cast(float, 0x7fc00000u)
#define HUGE_VAL __builtin_bit_cast(double, 0x7ff0000000000000ull)
#define M_PI 3.14159265358979323846


#endif
