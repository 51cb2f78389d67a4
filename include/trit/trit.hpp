// trit: ternary (1.58-bit) weights x int8 or int4 activations, packed 5 trits per byte
// (Dense243), with quantizers, a scalar reference and runtime-dispatched kernels. The
// umbrella header; the folders below follow the layers, bottom to top.
#pragma once

#include "trit/version.hpp"
#include "trit/error.hpp"
// Views: non-owning matrices and activations.
#include "trit/views/matrix_ref.hpp"
#include "trit/views/scale_granularity.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/int4_activations.hpp"
// Quantizers: floats to ternary weights and to int8 / int4 activations (docs/SEMANTICS.md).
#include "trit/quantize/quantize.hpp"
#include "trit/quantize/activations.hpp"
#include "trit/quantize/int4_activations.hpp"
// Formats: Dense243, packed matrices and their views, the int4 layout, blobs and files.
#include "trit/format/dense243.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/format/serialize.hpp"
#include "trit/format/two_bit.hpp"
// The scalar reference (the specification).
#include "trit/reference/reference.hpp"
#include "trit/reference/int4.hpp"
#include "trit/reference/two_bit.hpp"
// The path table and CPU detection.
#include "trit/paths/isa.hpp"
#include "trit/paths/path_table.hpp"
#include "trit/paths/cpu_features.hpp"
// The driver and the public products.
#include "trit/driver/gemm.hpp"
#include "trit/driver/gemm_int4.hpp"
#include "trit/driver/driver.hpp"
#include "trit/driver/two_bit.hpp"
// Layers.
#include "trit/layers/bitlinear.hpp"
