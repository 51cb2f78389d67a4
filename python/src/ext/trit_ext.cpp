// trit's Python extension: NumPy (and any DLPack / buffer-protocol CPU array) in and out,
// without copies where the memory layout allows, and without the GIL during products.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <trit/trit.hpp>

namespace nb = nanobind;
using namespace nb::literals;

namespace {

// Any CPU array, any dtype: the dtype and rank are checked by hand so that the error names
// the function, the argument and what it got.
using AnyArray = nb::ndarray<nb::ro, nb::device::cpu>;
using WritableArray = nb::ndarray<nb::device::cpu>;

std::string dtype_name(nb::dlpack::dtype dt) {
  const char* kind = "?";
  switch (static_cast<nb::dlpack::dtype_code>(dt.code)) {
    case nb::dlpack::dtype_code::Int: kind = "int"; break;
    case nb::dlpack::dtype_code::UInt: kind = "uint"; break;
    case nb::dlpack::dtype_code::Float: kind = "float"; break;
    case nb::dlpack::dtype_code::Bfloat: kind = "bfloat"; break;
    case nb::dlpack::dtype_code::Complex: kind = "complex"; break;
    case nb::dlpack::dtype_code::Bool: kind = "bool"; break;
  }
  return std::string(kind) + std::to_string(dt.bits);
}

template <class T>
const char* wanted_name() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  if constexpr (std::is_same_v<T, std::int8_t>) return "int8";
  if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
}

[[noreturn]] void type_error(const std::string& message) { throw nb::type_error(message.c_str()); }
[[noreturn]] void value_error(const std::string& message) { throw nb::value_error(message.c_str()); }

std::string type_of(nb::handle obj) { return nb::type_name(obj.type()).c_str(); }

template <class T, class Array>
void check_array(const Array& a, std::size_t ndim_lo, std::size_t ndim_hi, const std::string& where) {
  if (a.device_type() != nb::device::cpu::value) type_error(where + " must be on the CPU");
  if (a.dtype() != nb::dtype<T>()) {
    type_error(where + " must have dtype " + wanted_name<T>() + ", got " + dtype_name(a.dtype()));
  }
  if (a.ndim() < ndim_lo || a.ndim() > ndim_hi) {
    const std::string want = ndim_lo == ndim_hi ? std::to_string(ndim_lo) : std::to_string(ndim_lo) + " or " +
                                                                                std::to_string(ndim_hi);
    value_error(where + " must have " + want + " dimensions, got " + std::to_string(a.ndim()));
  }
}

AnyArray to_array(nb::handle obj, const std::string& where, const char* want) {
  AnyArray a;
  if (!nb::try_cast(obj, a, false)) {
    type_error(where + " must be a NumPy array (or a CPU DLPack tensor) of " + want + ", got " + type_of(obj));
  }
  return a;
}

// A read-only matrix view of caller memory; a private contiguous copy only when the inner
// stride is not 1 or the rows overlap (transposed, sliced with a step, broadcast).
template <class T>
struct MatrixIn {
  AnyArray keep;
  std::vector<T> copy;
  trit::MatrixRef<const T> ref{};
  bool one_dim = false;
};

template <class T>
MatrixIn<T> matrix_in(nb::handle obj, const std::string& where, bool allow_1d) {
  MatrixIn<T> in;
  in.keep = to_array(obj, where, wanted_name<T>());
  check_array<T>(in.keep, allow_1d ? 1 : 2, 2, where);
  const AnyArray& a = in.keep;
  in.one_dim = a.ndim() == 1;
  const std::size_t rows = in.one_dim ? 1 : a.shape(0);
  const std::size_t cols = in.one_dim ? a.shape(0) : a.shape(1);
  const std::int64_t s_row = in.one_dim ? static_cast<std::int64_t>(cols) : a.stride(0);
  const std::int64_t s_col = in.one_dim ? a.stride(0) : a.stride(1);
  const T* data = static_cast<const T*>(a.data());
  const bool unit_cols = cols <= 1 || s_col == 1;
  const bool rows_ok = rows <= 1 || (s_row >= 0 && static_cast<std::size_t>(s_row) >= cols);
  if (unit_cols && rows_ok) {
    const std::size_t stride = rows <= 1 ? cols : static_cast<std::size_t>(s_row);
    in.ref = trit::MatrixRef<const T>{data, rows, cols, stride};
    return in;
  }
  in.copy.resize(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      in.copy[r * cols + c] = data[static_cast<std::int64_t>(r) * s_row + static_cast<std::int64_t>(c) * s_col];
    }
  }
  in.ref = trit::MatrixRef<const T>{in.copy.data(), rows, cols, cols};
  return in;
}

// A 1-D vector of n values (n = 0: any length), or a Python number broadcast to n values.
template <class T>
struct VectorIn {
  AnyArray keep;
  std::vector<T> copy;
  const T* data = nullptr;
  std::size_t size = 0;
};

template <class T>
VectorIn<T> vector_in(nb::handle obj, std::size_t n, const std::string& where, bool allow_number) {
  VectorIn<T> in;
  if (allow_number && (PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()))) {
    in.copy.assign(n == 0 ? 1 : n, static_cast<T>(nb::cast<double>(obj)));
    in.data = in.copy.data();
    in.size = in.copy.size();
    return in;
  }
  in.keep = to_array(obj, where, wanted_name<T>());
  if (allow_number && in.keep.ndim() == 0) {  // a NumPy scalar such as np.float32(0.5)
    const double value = PyFloat_AsDouble(obj.ptr());
    if (value == -1.0 && PyErr_Occurred()) throw nb::python_error();
    in.keep = AnyArray();
    in.copy.assign(n == 0 ? 1 : n, static_cast<T>(value));
    in.data = in.copy.data();
    in.size = in.copy.size();
    return in;
  }
  check_array<T>(in.keep, 1, 1, where);
  in.size = in.keep.shape(0);
  if (n != 0 && in.size != n) {
    value_error(where + " must hold " + std::to_string(n) + " values, got " + std::to_string(in.size));
  }
  const T* data = static_cast<const T*>(in.keep.data());
  if (in.size <= 1 || in.keep.stride(0) == 1) {
    in.data = data;
    return in;
  }
  in.copy.resize(in.size);
  for (std::size_t i = 0; i < in.size; ++i) in.copy[i] = data[static_cast<std::int64_t>(i) * in.keep.stride(0)];
  in.data = in.copy.data();
  return in;
}

// A new C-contiguous NumPy array owned by Python, written in place by the product.
template <class T>
struct MatrixOut {
  nb::object result;
  trit::MatrixRef<T> ref{};
};

template <class T>
MatrixOut<T> matrix_out(nb::handle out, std::size_t rows, std::size_t cols, bool one_dim, const std::string& where) {
  MatrixOut<T> o;
  if (out.is_none()) {
    T* data = new T[rows * cols == 0 ? 1 : rows * cols];
    nb::capsule owner(data, [](void* p) noexcept { delete[] static_cast<T*>(p); });
    if (one_dim) {
      o.result = nb::cast(nb::ndarray<nb::numpy, T>(data, {cols}, owner));
    } else {
      o.result = nb::cast(nb::ndarray<nb::numpy, T>(data, {rows, cols}, owner));
    }
    o.ref = trit::MatrixRef<T>{data, rows, cols, cols};
    return o;
  }
  WritableArray a;
  if (!nb::try_cast(out, a, false)) {
    type_error(where + " must be a writable " + wanted_name<T>() + " NumPy array (or CPU tensor), got " + type_of(out));
  }
  check_array<T>(a, one_dim ? 1 : 2, one_dim ? 1 : 2, where);
  const std::size_t r = one_dim ? 1 : a.shape(0);
  const std::size_t c = one_dim ? a.shape(0) : a.shape(1);
  if (r != rows || c != cols) {
    value_error(where + " must have shape " +
                (one_dim ? "(" + std::to_string(cols) + ",)"
                         : "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")") +
                ", got " + (one_dim ? "(" + std::to_string(c) + ",)" : "(" + std::to_string(r) + ", " + std::to_string(c) + ")"));
  }
  const std::int64_t s_col = one_dim ? a.stride(0) : a.stride(1);
  const std::int64_t s_row = one_dim ? static_cast<std::int64_t>(cols) : a.stride(0);
  if (!(cols <= 1 || s_col == 1) || !(rows <= 1 || (s_row >= 0 && static_cast<std::size_t>(s_row) >= cols))) {
    value_error(where + " must have contiguous rows (unit column stride, non-overlapping rows)");
  }
  o.result = nb::borrow(out);
  o.ref = trit::MatrixRef<T>{static_cast<T*>(a.data()), rows, cols, rows <= 1 ? cols : static_cast<std::size_t>(s_row)};
  return o;
}

trit::ScaleGranularity parse_granularity(const std::string& name) {
  if (name == "per_tensor") return trit::ScaleGranularity::per_tensor;
  if (name == "per_row") return trit::ScaleGranularity::per_row;
  value_error("granularity must be 'per_tensor' or 'per_row', got '" + name + "'");
}

const char* granularity_name(trit::ScaleGranularity g) {
  return g == trit::ScaleGranularity::per_row ? "per_row" : "per_tensor";
}

trit::ActivationScheme parse_scheme(const std::string& name) {
  for (auto s : {trit::ActivationScheme::int8_absmax, trit::ActivationScheme::int4_absmax,
                 trit::ActivationScheme::int4_absmean, trit::ActivationScheme::int8_topk}) {
    if (name == trit::scheme_name(s)) return s;
  }
  value_error("scheme must be 'int8_absmax', 'int4_absmax', 'int4_absmean' or 'int8_topk', got '" + name + "'");
}

trit::GemmOptions options(unsigned threads, const std::string& isa) {
  trit::GemmOptions o;
  o.isa = trit::parse_isa(isa);
  o.threads = threads;
  return o;
}

// Activations for a product: a QuantizedActivations, or an int8 (N, K) array with N scales
// (gemm_int32 needs none: its output does not use them).
struct ActivationsIn {
  MatrixIn<std::int8_t> values;
  VectorIn<float> scales;
  std::vector<float> ones;
  trit::ActivationsView view{};
  bool one_dim = false;
};

ActivationsIn activations_in(nb::handle x, nb::handle scales, bool need_scales, const char* fn) {
  ActivationsIn in;
  const std::string f = std::string("trit.") + fn + ": ";
  if (nb::isinstance<trit::QuantizedActivations>(x)) {
    if (!scales.is_none()) value_error(f + "x is a QuantizedActivations, which carries its own scales; pass no x_scales");
    const auto& q = nb::cast<const trit::QuantizedActivations&>(x);
    in.values.keep = AnyArray();
    in.view = q.view();
    return in;
  }
  in.values = matrix_in<std::int8_t>(x, f + "x", false);
  const std::size_t tokens = in.values.ref.rows;
  if (need_scales) {
    if (scales.is_none()) type_error(f + "x is an int8 array, so x_scales (one float32 per row of x) is required");
    in.scales = vector_in<float>(scales, tokens, f + "x_scales", true);
    in.view = trit::ActivationsView{in.values.ref.data, tokens, in.values.ref.cols, in.values.ref.stride, in.scales.data};
  } else {
    in.ones.assign(tokens, 1.0f);
    in.view = trit::ActivationsView{in.values.ref.data, tokens, in.values.ref.cols, in.values.ref.stride, in.ones.data()};
  }
  return in;
}

nb::object numpy_copy(const float* data, std::size_t n) {
  float* copy = new float[n == 0 ? 1 : n];
  std::copy(data, data + n, copy);
  nb::capsule owner(copy, [](void* p) noexcept { delete[] static_cast<float*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, float>(copy, {n}, owner));
}

nb::bytes to_bytes(const std::vector<std::uint8_t>& blob) {
  return nb::bytes(reinterpret_cast<const char*>(blob.data()), blob.size());
}

std::pair<const std::uint8_t*, std::size_t> from_bytes(nb::handle blob, const char* fn) {
  if (!nb::isinstance<nb::bytes>(blob)) {
    type_error(std::string("trit.") + fn + ": blob must be bytes, got " + type_of(blob));
  }
  nb::bytes b = nb::borrow<nb::bytes>(blob);
  return {reinterpret_cast<const std::uint8_t*>(b.c_str()), b.size()};
}

// Files go through pathlib so that paths may be str or os.PathLike and failures are OSError.
void write_file(nb::handle path, const nb::bytes& blob) {
  nb::module_::import_("pathlib").attr("Path")(path).attr("write_bytes")(blob);
}
nb::bytes read_file(nb::handle path) {
  return nb::borrow<nb::bytes>(nb::module_::import_("pathlib").attr("Path")(path).attr("read_bytes")());
}

trit::BitLinear make_layer(trit::PackedMatrix packed, nb::handle bias, const std::string& scheme, double topk_ratio) {
  std::vector<float> b;
  if (!bias.is_none()) {
    const VectorIn<float> v = vector_in<float>(bias, packed.rows(), "trit.BitLinear: bias", false);
    b.assign(v.data, v.data + v.size);
  }
  trit::ActivationConfig config;
  config.scheme = parse_scheme(scheme);
  config.topk_ratio = topk_ratio;
  return trit::BitLinear(std::move(packed), std::move(b), config);
}

nb::dict cpu_info() {
  nb::dict info;
  const trit::CpuFeatures& f = trit::cpu_features();
  nb::dict features;
  features["avx2"] = f.avx2;
  features["avxvnni"] = f.avxvnni;
  features["avx512bw"] = f.avx512bw;
  features["avx512vnni"] = f.avx512vnni;
  features["avx512vbmi"] = f.avx512vbmi;
  features["neon"] = f.neon;
  features["dotprod"] = f.dotprod;
  info["features"] = features;

  nb::list supported;
  nb::dict unsupported;
  for (const char* name : {"avx512vnni", "avxvnni", "avx512bw", "avx2", "neon-dotprod", "neon", "scalar"}) {
    const trit::Isa isa = trit::parse_isa(name);
    if (trit::isa_supported(isa)) {
      supported.append(name);
    } else {
      unsupported[name] = trit::isa_unsupported_reason(isa);
    }
  }
  info["supported"] = supported;
  info["unsupported"] = unsupported;

  const char* env = std::getenv("TRIT_ISA");
  const bool forced = env != nullptr && *env != '\0' && std::string(env) != "auto";
  info["trit_isa"] = env == nullptr ? nb::none() : nb::cast(std::string(env));
  try {
    const char* best = trit::isa_name(trit::best_isa());
    info["path"] = best;
    info["reason"] = forced ? std::string("TRIT_ISA=") + env + " pins the path"
                            : std::string(best) + " is trit's preferred path among those this CPU supports "
                                                  "(preference: avx512vnni, avxvnni, avx512bw, avx2, neon-dotprod, "
                                                  "neon, scalar); set TRIT_ISA to pin another";
  } catch (const trit::unsupported_isa_error& e) {
    info["path"] = nb::none();
    info["reason"] = std::string(e.what());
  }
#if defined(TRIT_ENABLE_INT4)
  info["int4_kernels"] = true;
#else
  info["int4_kernels"] = false;
#endif
  info["version"] = std::to_string(TRIT_VERSION_MAJOR) + "." + std::to_string(TRIT_VERSION_MINOR) + "." +
                    std::to_string(TRIT_VERSION_PATCH);
  return info;
}

}  // namespace

NB_MODULE(_trit, m) {
  m.doc() = "trit: ternary (1.58-bit) weights x int8 activations, runtime-dispatched CPU kernels";

  nb::exception<trit::format_error>(m, "FormatError", PyExc_ValueError);
  nb::exception<trit::unsupported_isa_error>(m, "UnsupportedIsaError", PyExc_RuntimeError);

  m.def("cpu_info", &cpu_info,
        "Which kernel path runs and why: {'path', 'reason', 'features', 'supported', 'unsupported', "
        "'trit_isa', 'int4_kernels', 'version'}.");

  // ---- PackedMatrix -------------------------------------------------------------------------
  nb::class_<trit::PackedMatrix>(m, "PackedMatrix",
                                 "M x K ternary weights packed 5 per byte (Dense243) with 1 or M scales.")
      .def_prop_ro("shape", [](const trit::PackedMatrix& p) { return nb::make_tuple(p.rows(), p.cols()); },
                   "(M, K): output rows x inputs.")
      .def_prop_ro("rows", &trit::PackedMatrix::rows)
      .def_prop_ro("cols", &trit::PackedMatrix::cols)
      .def_prop_ro("bits_per_weight", &trit::PackedMatrix::bits_per_weight,
                   "Storage bits per weight, row padding included, scales excluded (1.6 for large K).")
      .def_prop_ro("nbytes", &trit::PackedMatrix::weight_bytes, "Bytes of packed weights (rows * row_stride).")
      .def_prop_ro("row_stride", &trit::PackedMatrix::row_stride)
      .def_prop_ro("granularity", [](const trit::PackedMatrix& p) { return granularity_name(p.granularity()); })
      .def_prop_ro("scales", [](const trit::PackedMatrix& p) { return numpy_copy(p.scales().data(), p.scales().size()); },
                   "float32 array of 1 (per_tensor) or M (per_row) scales, a copy.")
      .def("trits",
           [](const trit::PackedMatrix& p) {
             MatrixOut<std::int8_t> o = matrix_out<std::int8_t>(nb::none(), p.rows(), p.cols(), false, "");
             trit::unpack_trits(p, o.ref);
             return o.result;
           },
           "The weights as an (M, K) int8 array of -1, 0, +1.")
      .def("dequantize",
           [](const trit::PackedMatrix& p) {
             MatrixOut<float> o = matrix_out<float>(nb::none(), p.rows(), p.cols(), false, "");
             trit::dequantize(p, o.ref);
             return o.result;
           },
           "trit * scale as an (M, K) float32 array.")
      .def("serialize", [](const trit::PackedMatrix& p) { return to_bytes(trit::serialize(p)); },
           "The versioned, checksummed blob of docs/FORMAT.md.")
      .def_static("deserialize",
                  [](nb::handle blob) {
                    const auto [data, size] = from_bytes(blob, "PackedMatrix.deserialize");
                    return trit::deserialize(data, size);
                  },
                  "blob"_a, "Rebuilds weights from untrusted bytes; FormatError if they are malformed.")
      .def("save", [](const trit::PackedMatrix& p, nb::handle path) { write_file(path, to_bytes(trit::serialize(p))); },
           "path"_a)
      .def_static("load",
                  [](nb::handle path) {
                    nb::bytes blob = read_file(path);
                    return trit::deserialize(reinterpret_cast<const std::uint8_t*>(blob.c_str()), blob.size());
                  },
                  "path"_a)
      .def("__getstate__", [](const trit::PackedMatrix& p) { return to_bytes(trit::serialize(p)); })
      .def("__setstate__",
           [](trit::PackedMatrix& p, nb::bytes blob) {
             new (&p) trit::PackedMatrix(
                 trit::deserialize(reinterpret_cast<const std::uint8_t*>(blob.c_str()), blob.size()));
           })
      .def("__repr__", [](const trit::PackedMatrix& p) {
        return "PackedMatrix(shape=(" + std::to_string(p.rows()) + ", " + std::to_string(p.cols()) +
               "), granularity='" + granularity_name(p.granularity()) + "', nbytes=" + std::to_string(p.weight_bytes()) + ")";
      });

  // ---- QuantizedActivations -----------------------------------------------------------------
  nb::class_<trit::QuantizedActivations>(m, "QuantizedActivations",
                                         "N tokens of K int8 values (int4 schemes: one per int8) and N scales; "
                                         "dequantized x = values / scales[:, None].")
      .def_prop_ro("shape", [](const trit::QuantizedActivations& q) { return nb::make_tuple(q.tokens(), q.cols()); })
      .def_prop_ro("scheme", [](const trit::QuantizedActivations& q) { return trit::scheme_name(q.scheme()); })
      .def_prop_ro(
          "values",
          [](const trit::QuantizedActivations& q) {
            // A read-only view of the object's own buffer (rows padded to 64 bytes), no copy.
            const std::int64_t stride = static_cast<std::int64_t>(q.stride());
            return nb::ndarray<nb::numpy, const std::int8_t>(q.tokens() == 0 ? nullptr : q.row(0),
                                                             {q.tokens(), q.cols()}, nb::find(&q), {stride, 1});
          },
          "(N, K) int8 read-only view, no copy.")
      .def_prop_ro("scales", [](const trit::QuantizedActivations& q) { return numpy_copy(q.scales().data(), q.scales().size()); },
                   "(N,) float32 per-token scales, a copy.")
      .def("__repr__", [](const trit::QuantizedActivations& q) {
        return "QuantizedActivations(shape=(" + std::to_string(q.tokens()) + ", " + std::to_string(q.cols()) +
               "), scheme='" + trit::scheme_name(q.scheme()) + "')";
      });

  // ---- Packing and quantizing ----------------------------------------------------------------
  m.def(
      "pack_weights",
      [](nb::handle w, const std::string& granularity) {
        const MatrixIn<float> in = matrix_in<float>(w, "trit.pack_weights: w", false);
        const trit::ScaleGranularity g = parse_granularity(granularity);
        nb::gil_scoped_release release;
        return trit::pack_weights(in.ref, g);
      },
      "w"_a, "granularity"_a = "per_tensor",
      "Quantizes float32 weights (M, K) with BitNet's absmean (per tensor or per row) and packs them.");

  m.def(
      "pack_trits",
      [](nb::handle trits, nb::handle scales, const std::string& granularity) {
        const MatrixIn<std::int8_t> in = matrix_in<std::int8_t>(trits, "trit.pack_trits: trits", false);
        const trit::ScaleGranularity g = parse_granularity(granularity);
        const std::size_t count = g == trit::ScaleGranularity::per_row ? in.ref.rows : 1;
        const VectorIn<float> s = vector_in<float>(scales, count, "trit.pack_trits: scales", true);
        nb::gil_scoped_release release;
        return trit::pack_trits(in.ref, s.data, s.size, g);
      },
      "trits"_a, "scales"_a, "granularity"_a = "per_tensor",
      "Packs already-ternary int8 weights (M, K) of -1/0/+1 with 1 (per_tensor) or M (per_row) scales, "
      "without re-quantizing. Dequantized weight = trit * scale.");

  m.def(
      "quantize_activations",
      [](nb::handle x, const std::string& scheme, double topk_ratio) {
        const MatrixIn<float> in = matrix_in<float>(x, "trit.quantize_activations: x", false);
        const trit::ActivationScheme s = parse_scheme(scheme);
        nb::gil_scoped_release release;
        return trit::quantize_activations(in.ref, s, topk_ratio);
      },
      "x"_a, "scheme"_a = "int8_absmax", "topk_ratio"_a = 0.5,
      "Quantizes each row (token) of float32 x (N, K): int8_absmax, int4_absmax, int4_absmean or int8_topk.");

  // ---- Products ------------------------------------------------------------------------------
  m.def(
      "gemm",
      [](const trit::PackedMatrix& w, nb::handle x, nb::handle x_scales, nb::handle bias, nb::handle out,
         unsigned threads, const std::string& isa) {
        ActivationsIn a = activations_in(x, x_scales, true, "gemm");
        VectorIn<float> b;
        if (!bias.is_none()) b = vector_in<float>(bias, w.rows(), "trit.gemm: bias", false);
        MatrixOut<float> o = matrix_out<float>(out, a.view.tokens, w.rows(), false, "trit.gemm: out");
        const trit::GemmOptions opt = options(threads, isa);
        {
          nb::gil_scoped_release release;
          trit::gemm(w, a.view, o.ref, b.data, opt);
        }
        return o.result;
      },
      "w"_a, "x"_a, "x_scales"_a = nb::none(), "bias"_a = nb::none(), "out"_a = nb::none(), "threads"_a = 0,
      "isa"_a = "auto",
      "y (N, M) float32 = ((float)acc / x_scales[n]) * w.scale(m) + bias[m], acc = x @ W^T exact in int32.\n"
      "x is a QuantizedActivations, or an int8 (N, K) array with x_scales (N float32, or one number).\n"
      "threads=0 uses every hardware thread; results never depend on it. The GIL is released.");

  m.def(
      "gemm_int32",
      [](const trit::PackedMatrix& w, nb::handle x, nb::handle out, unsigned threads, const std::string& isa) {
        ActivationsIn a = activations_in(x, nb::none(), false, "gemm_int32");
        MatrixOut<std::int32_t> o = matrix_out<std::int32_t>(out, a.view.tokens, w.rows(), false, "trit.gemm_int32: out");
        const trit::GemmOptions opt = options(threads, isa);
        {
          nb::gil_scoped_release release;
          trit::gemm_int32(w, a.view, o.ref, opt);
        }
        return o.result;
      },
      "w"_a, "x"_a, "out"_a = nb::none(), "threads"_a = 0, "isa"_a = "auto",
      "acc (N, M) int32 = x @ W^T, exact: x int8 (N, K) or a QuantizedActivations. The GIL is released.");

  m.def(
      "gemv",
      [](const trit::PackedMatrix& w, nb::handle x, float x_scale, nb::handle bias, nb::handle out, unsigned threads,
         const std::string& isa) {
        const MatrixIn<std::int8_t> in = matrix_in<std::int8_t>(x, "trit.gemv: x", true);
        if (!in.one_dim) value_error("trit.gemv: x must have 1 dimension (one token), got 2; use trit.gemm");
        VectorIn<float> b;
        if (!bias.is_none()) b = vector_in<float>(bias, w.rows(), "trit.gemv: bias", false);
        MatrixOut<float> o = matrix_out<float>(out, 1, w.rows(), true, "trit.gemv: out");
        const trit::GemmOptions opt = options(threads, isa);
        {
          nb::gil_scoped_release release;
          trit::gemm(w, trit::ActivationsView{in.ref.data, 1, in.ref.cols, in.ref.cols, &x_scale}, o.ref, b.data, opt);
        }
        return o.result;
      },
      "w"_a, "x"_a, "x_scale"_a, "bias"_a = nb::none(), "out"_a = nb::none(), "threads"_a = 0, "isa"_a = "auto",
      "One token: x int8 (K,) with scale x_scale -> y float32 (M,). The GIL is released.");

  // ---- BitLinear -----------------------------------------------------------------------------
  nb::class_<trit::BitLinear>(m, "BitLinear",
                              "A ternary linear layer: float32 in, float32 out, weights packed inside.\n"
                              "forward(x) quantizes each token with the layer's scheme and computes\n"
                              "y = ((float)acc / s[n]) * w_scale[m] + bias[m].")
      .def(
          "__init__",
          [](trit::BitLinear* self, const trit::PackedMatrix& weights, nb::handle bias, const std::string& scheme,
             double topk_ratio) { new (self) trit::BitLinear(make_layer(weights, bias, scheme, topk_ratio)); },
          "weights"_a, "bias"_a = nb::none(), "scheme"_a = "int8_absmax", "topk_ratio"_a = 0.5)
      .def_static(
          "from_float",
          [](nb::handle w, const std::string& granularity, nb::handle bias, const std::string& scheme,
             double topk_ratio) {
            const MatrixIn<float> in = matrix_in<float>(w, "trit.BitLinear.from_float: w", false);
            const trit::ScaleGranularity g = parse_granularity(granularity);
            trit::PackedMatrix packed;
            {
              nb::gil_scoped_release release;
              packed = trit::pack_weights(in.ref, g);
            }
            return make_layer(std::move(packed), bias, scheme, topk_ratio);
          },
          "w"_a, "granularity"_a = "per_tensor", "bias"_a = nb::none(), "scheme"_a = "int8_absmax",
          "topk_ratio"_a = 0.5, "From float32 weights (M, K), ternarized with BitNet's absmean.")
      .def_static(
          "from_trits",
          [](nb::handle trits, nb::handle scales, const std::string& granularity, nb::handle bias,
             const std::string& scheme, double topk_ratio) {
            const MatrixIn<std::int8_t> in = matrix_in<std::int8_t>(trits, "trit.BitLinear.from_trits: trits", false);
            const trit::ScaleGranularity g = parse_granularity(granularity);
            const std::size_t count = g == trit::ScaleGranularity::per_row ? in.ref.rows : 1;
            const VectorIn<float> s = vector_in<float>(scales, count, "trit.BitLinear.from_trits: scales", true);
            trit::PackedMatrix packed;
            {
              nb::gil_scoped_release release;
              packed = trit::pack_trits(in.ref, s.data, s.size, g);
            }
            return make_layer(std::move(packed), bias, scheme, topk_ratio);
          },
          "trits"_a, "scales"_a, "granularity"_a = "per_tensor", "bias"_a = nb::none(), "scheme"_a = "int8_absmax",
          "topk_ratio"_a = 0.5, "From int8 trits (M, K) of -1/0/+1 and 1 or M scales (dequantized = trit * scale).")
      .def_prop_ro("in_features", &trit::BitLinear::in_features)
      .def_prop_ro("out_features", &trit::BitLinear::out_features)
      .def_prop_ro("shape", [](const trit::BitLinear& l) { return nb::make_tuple(l.out_features(), l.in_features()); },
                   "(M, K) = (out_features, in_features).")
      .def_prop_ro("scheme", [](const trit::BitLinear& l) { return trit::scheme_name(l.scheme()); })
      .def_prop_ro("topk_ratio", [](const trit::BitLinear& l) { return l.activations().topk_ratio; })
      .def_prop_ro("granularity", [](const trit::BitLinear& l) { return granularity_name(l.granularity()); })
      .def_prop_ro("weight_scales",
                   [](const trit::BitLinear& l) {
                     const std::vector<float> scales = l.weight_scales();
                     return numpy_copy(scales.data(), scales.size());
                   })
      .def_prop_ro("bias",
                   [](const trit::BitLinear& l) -> nb::object {
                     if (!l.has_bias()) return nb::none();
                     return numpy_copy(l.bias().data(), l.bias().size());
                   })
      .def_prop_ro("memory_bytes", &trit::BitLinear::memory_bytes)
      .def_prop_ro("uses_int4_kernels", &trit::BitLinear::uses_int4_kernels)
      .def("packed_weights", &trit::BitLinear::packed_weights, "The weights as a PackedMatrix (a copy).")
      .def(
          "quantize",
          [](const trit::BitLinear& l, nb::handle x) {
            const MatrixIn<float> in = matrix_in<float>(x, "trit.BitLinear.quantize: x", false);
            nb::gil_scoped_release release;
            return l.quantize(in.ref);
          },
          "x"_a, "The QuantizedActivations forward computes for x (N, K).")
      .def(
          "forward",
          [](const trit::BitLinear& l, nb::handle x, nb::handle out, unsigned threads, const std::string& isa) {
            const MatrixIn<float> in = matrix_in<float>(x, "trit.BitLinear.forward: x", true);
            if (in.ref.cols != l.in_features()) {
              value_error("trit.BitLinear.forward: x has " + std::to_string(in.ref.cols) +
                          " features in its last dimension, the layer takes " + std::to_string(l.in_features()));
            }
            MatrixOut<float> o = matrix_out<float>(out, in.ref.rows, l.out_features(), in.one_dim, "trit.BitLinear.forward: out");
            const trit::GemmOptions opt = options(threads, isa);
            {
              nb::gil_scoped_release release;
              l.forward(in.ref, o.ref, opt);
            }
            return o.result;
          },
          "x"_a, "out"_a = nb::none(), "threads"_a = 0, "isa"_a = "auto",
          "y = layer(x): x float32 (K,) or (N, K) -> y float32 (M,) or (N, M). The GIL is released.")
      .def(
          "__call__",
          [](const trit::BitLinear& l, nb::handle x) {
            const MatrixIn<float> in = matrix_in<float>(x, "trit.BitLinear: x", true);
            if (in.ref.cols != l.in_features()) {
              value_error("trit.BitLinear: x has " + std::to_string(in.ref.cols) +
                          " features in its last dimension, the layer takes " + std::to_string(l.in_features()));
            }
            MatrixOut<float> o = matrix_out<float>(nb::none(), in.ref.rows, l.out_features(), in.one_dim, "");
            {
              nb::gil_scoped_release release;
              l.forward(in.ref, o.ref, trit::GemmOptions{trit::Isa::automatic, 0});
            }
            return o.result;
          },
          "x"_a)
      .def("serialize", [](const trit::BitLinear& l) { return to_bytes(l.serialize()); })
      .def_static("deserialize",
                  [](nb::handle blob) {
                    const auto [data, size] = from_bytes(blob, "BitLinear.deserialize");
                    return trit::BitLinear::deserialize(data, size);
                  },
                  "blob"_a)
      .def("save", [](const trit::BitLinear& l, nb::handle path) { write_file(path, to_bytes(l.serialize())); }, "path"_a)
      .def_static("load",
                  [](nb::handle path) {
                    nb::bytes blob = read_file(path);
                    return trit::BitLinear::deserialize(reinterpret_cast<const std::uint8_t*>(blob.c_str()), blob.size());
                  },
                  "path"_a)
      .def("__getstate__", [](const trit::BitLinear& l) { return to_bytes(l.serialize()); })
      .def("__setstate__",
           [](trit::BitLinear& l, nb::bytes blob) {
             new (&l) trit::BitLinear(
                 trit::BitLinear::deserialize(reinterpret_cast<const std::uint8_t*>(blob.c_str()), blob.size()));
           })
      .def("__repr__", [](const trit::BitLinear& l) {
        return "BitLinear(in_features=" + std::to_string(l.in_features()) + ", out_features=" +
               std::to_string(l.out_features()) + ", scheme='" + trit::scheme_name(l.scheme()) + "', bias=" +
               (l.has_bias() ? "True" : "False") + ")";
      });
}
