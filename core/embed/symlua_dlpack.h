/*
** symlua_dlpack.h — tensors exchanged with other frameworks through DLPack,
** without copying: a DLPack tensor becomes a symlua tensor over the same
** buffer, and a symlua tensor is handed out as a DLPack one.
**
** The structures follow the layout DLPack 1.x documents (version 1.0 of the
** versioned struct); a host that includes the standard's own dlpack.h first
** uses those definitions instead (same layout, same names).
**
** Ownership, as the standard has it: a managed tensor's deleter is called
** once, by whoever holds it last, from any thread. Importing takes the
** caller's ownership on success only (the deleter runs when the last symlua
** view goes); on failure the caller still owns it. An exported one belongs
** to the receiver, who calls its deleter; the symlua tensor stays valid.
*/
#ifndef SYMLUA_DLPACK_H
#define SYMLUA_DLPACK_H

#include "symlua.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef DLPACK_DLPACK_H_   /* the standard header's guard: its definitions win */
#define DLPACK_DLPACK_H_

#define DLPACK_MAJOR_VERSION 1
#define DLPACK_MINOR_VERSION 0

/* Bits of DLManagedTensorVersioned.flags. */
#define DLPACK_FLAG_BITMASK_READ_ONLY (1ULL << 0)   /* the receiver must not write */
#define DLPACK_FLAG_BITMASK_IS_COPIED (1ULL << 1)   /* the producer copied its data */

typedef struct {
  uint32_t major;   /* an ABI break changes it */
  uint32_t minor;
} DLPackVersion;

typedef enum {
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,      /* pinned host memory: readable by the CPU */
  kDLOpenCL = 4,
  kDLVulkan = 7,
  kDLMetal = 8,
  kDLVPI = 9,
  kDLROCM = 10,
  kDLROCMHost = 11,
  kDLExtDev = 12,
  kDLCUDAManaged = 13,
  kDLOneAPI = 14,
  kDLWebGPU = 15,
  kDLHexagon = 16,
} DLDeviceType;

typedef struct {
  DLDeviceType device_type;
  int32_t device_id;
} DLDevice;

typedef enum {
  kDLInt = 0,
  kDLUInt = 1,
  kDLFloat = 2,
  kDLOpaqueHandle = 3,
  kDLBfloat = 4,
  kDLComplex = 5,
  kDLBool = 6,
} DLDataTypeCode;

typedef struct {
  uint8_t code;     /* a DLDataTypeCode */
  uint8_t bits;     /* of one lane */
  uint16_t lanes;   /* 1 for plain (non-vector) elements */
} DLDataType;

typedef struct {
  void *data;             /* element 0 is at (char *)data + byte_offset */
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t *shape;
  int64_t *strides;       /* in elements; NULL: compact C order */
  uint64_t byte_offset;
} DLTensor;

typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void *manager_ctx;
  void (*deleter)(struct DLManagedTensor *self);   /* may be NULL */
} DLManagedTensor;

typedef struct DLManagedTensorVersioned {
  DLPackVersion version;
  void *manager_ctx;
  void (*deleter)(struct DLManagedTensorVersioned *self);   /* may be NULL */
  uint64_t flags;         /* DLPACK_FLAG_BITMASK_* */
  DLTensor dl_tensor;
} DLManagedTensorVersioned;

#endif /* DLPACK_DLPACK_H_ */

/* A tensor over m's buffer (no copy). CPU memory only for now (kDLCPU,
** kDLCUDAHost); the dtypes of symlua.h, one lane; a read-only tensor is
** refused (symlua tensors are writable). A major version other than 1 is
** refused without reading past the version. NULL + sl_errmsg() on failure. */
sl_tensor *sl_tensor_from_dlpack_versioned(DLManagedTensorVersioned *m);
sl_tensor *sl_tensor_from_dlpack(DLManagedTensor *m);

/* t handed out (t is retained until the deleter runs); NULL + sl_errmsg(). */
DLManagedTensorVersioned *sl_tensor_to_dlpack_versioned(sl_tensor *t);
DLManagedTensor *sl_tensor_to_dlpack(sl_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
