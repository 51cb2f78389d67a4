// trit: ternary (1.58-bit) weights x int8 activations, packed 5 trits per byte (Dense243),
// with quantizers, a scalar reference and runtime-dispatched kernels. The umbrella header.
#pragma once

#include "trit/version.hpp"
#include "trit/error.hpp"
#include "trit/matrix_ref.hpp"
#include "trit/dense243.hpp"
#include "trit/packed_matrix.hpp"
#include "trit/quantize.hpp"
#include "trit/activations.hpp"
#include "trit/pack.hpp"
#include "trit/serialize.hpp"
#include "trit/reference.hpp"
#include "trit/isa.hpp"
#include "trit/detail/cpu_features.hpp"
#include "trit/gemm.hpp"
#include "trit/bitlinear.hpp"
#include "trit/int4/gemm.hpp"
