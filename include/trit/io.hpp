// trit: checkpoint readers and the trit model file (one include for all of trit/io).
// GGUF (TQ1_0, TQ2_0, I2_S) and Hugging Face safetensors in, mapped trit model files out;
// docs/CHECKPOINTS.md describes the formats and the scale conventions.
#pragma once

#include "trit/io/convert.hpp"
#include "trit/io/gguf.hpp"
#include "trit/io/json.hpp"
#include "trit/io/metadata.hpp"
#include "trit/io/model_file.hpp"
#include "trit/io/safetensors.hpp"
#include "trit/io/tensor_types.hpp"
#include "trit/io/ternary_import.hpp"
