// trit: ternary (1.58-bit) weights x int8 activations, packed 5 trits per byte (Dense243),
// with quantizers, a scalar reference and runtime-dispatched kernels. The umbrella header.
#pragma once

#include "trit/version.hpp"
#include "trit/error.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/dense243.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/quantize/quantize.hpp"
#include "trit/views/activations.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/serialize.hpp"
#include "trit/reference/reference.hpp"
#include "trit/paths/isa.hpp"
#include "trit/paths/cpu_features.hpp"
#include "trit/driver/gemm.hpp"
#include "trit/layers/bitlinear.hpp"
#include "trit/driver/gemm_int4.hpp"
