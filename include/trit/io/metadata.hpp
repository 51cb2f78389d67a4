// trit: typed metadata values in GGUF's encoding (gguf.h: gguf_type). The GGUF reader and the
// trit model file share it, so metadata (hyper-parameters, tokenizer vocabularies and merges)
// is carried from a GGUF file into a model file byte for byte. Every length and count is
// checked against the bytes that remain before it is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "trit/detail/checked.hpp"
#include "trit/error.hpp"
#include "trit/format/blob.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

enum class MetadataType : std::uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8, array = 9,
  u64 = 10, i64 = 11, f64 = 12,
};

inline const char* metadata_type_name(MetadataType type) {
  static const char* const kNames[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<std::uint32_t>(type);
  return i < 13 ? kNames[i] : "unknown";
}

// One key/value; `value` points at the value's encoded bytes (after its type id), inside the
// file or buffer it was read from.
struct MetadataEntry {
  std::string key;
  MetadataType type = MetadataType::u8;
  const std::uint8_t* value = nullptr;
  std::size_t value_bytes = 0;

  // Scalars as numbers; throws format_error for a string or an array.
  double as_double() const;
  std::uint64_t as_u64() const;
  // A string value; throws format_error for another type.
  std::string as_string() const;
  // The element type and count of an array value.
  MetadataType array_type() const;
  std::uint64_t array_size() const;
  // A short human-readable rendering (arrays abbreviated).
  std::string describe(std::size_t max_items = 8) const;
};

namespace detail {

inline constexpr int kMaxMetadataArrayDepth = 8;

// A bounds-checked little-endian cursor over untrusted bytes.
class ByteCursor {
 public:
  ByteCursor(const std::uint8_t* data, std::size_t size, const char* fn, std::string what)
      : data_(data), size_(size), fn_(fn), what_(std::move(what)) {}

  std::size_t offset() const { return at_; }
  std::size_t remaining() const { return size_ - at_; }
  const std::uint8_t* here() const { return data_ + at_; }
  void seek(std::size_t offset) {
    if (offset > size_) fail("offset ", offset, " is past the end (", size_, " bytes)");
    at_ = offset;
  }
  void need(std::size_t bytes, const char* field) const {
    if (bytes > remaining()) {
      fail(field, " needs ", bytes, " bytes at offset ", at_, " but only ", remaining(), " remain (truncated?)");
    }
  }
  std::uint64_t le(int bytes, const char* field) {
    need(static_cast<std::size_t>(bytes), field);
    const std::uint64_t value = get_le(data_ + at_, bytes);
    at_ += static_cast<std::size_t>(bytes);
    return value;
  }
  std::uint32_t u32(const char* field) { return static_cast<std::uint32_t>(le(4, field)); }
  std::uint64_t u64(const char* field) { return le(8, field); }
  void skip(std::uint64_t bytes, const char* field) {
    if (bytes > remaining()) fail(field, " of ", bytes, " bytes at offset ", at_, " runs past the end (", remaining(), " remain)");
    at_ += static_cast<std::size_t>(bytes);
  }
  // A GGUF string: u64 length, then that many bytes.
  std::string string(const char* field) {
    const std::uint64_t length = u64(field);
    if (length > remaining()) fail(field, " length ", length, " at offset ", at_ - 8, " exceeds the ", remaining(), " bytes left");
    std::string out(reinterpret_cast<const char*>(data_ + at_), static_cast<std::size_t>(length));
    at_ += static_cast<std::size_t>(length);
    return out;
  }

  template <class... Parts>
  [[noreturn]] void fail(Parts&&... parts) const {
    throw_format_error(fn_, what_, ": ", std::forward<Parts>(parts)...);
  }
  const char* fn() const { return fn_; }
  const std::string& what() const { return what_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  const char* fn_;
  std::string what_;
  std::size_t at_ = 0;
};

inline std::size_t scalar_metadata_bytes(std::uint32_t type) {
  switch (static_cast<MetadataType>(type)) {
    case MetadataType::u8: case MetadataType::i8: case MetadataType::boolean: return 1;
    case MetadataType::u16: case MetadataType::i16: return 2;
    case MetadataType::u32: case MetadataType::i32: case MetadataType::f32: return 4;
    case MetadataType::u64: case MetadataType::i64: case MetadataType::f64: return 8;
    default: return 0;
  }
}

// Skips over one value of `type` at the cursor, checking every length, count and nested type.
inline void skip_metadata_value(ByteCursor& in, std::uint32_t type, const std::string& key, int depth) {
  if (const std::size_t bytes = scalar_metadata_bytes(type); bytes != 0) {
    in.skip(bytes, "metadata value");
    return;
  }
  if (type == static_cast<std::uint32_t>(MetadataType::string)) {
    const std::uint64_t length = in.u64("string length");
    in.skip(length, "string");
    return;
  }
  if (type != static_cast<std::uint32_t>(MetadataType::array)) in.fail("key \"", key, "\" has unknown value type ", type);
  if (depth >= kMaxMetadataArrayDepth) in.fail("key \"", key, "\": arrays nested too deeply");
  const std::uint32_t element_type = in.u32("array element type");
  const std::uint64_t count = in.u64("array count");
  if (const std::size_t bytes = scalar_metadata_bytes(element_type); bytes != 0) {
    if (count > in.remaining() / bytes) in.fail("key \"", key, "\": array of ", count, " elements exceeds the bytes left");
    in.skip(count * bytes, "array");
    return;
  }
  // Strings and arrays take at least 8 bytes each: a huge count fails here, not in a loop.
  if (count > in.remaining() / 8) in.fail("key \"", key, "\": array of ", count, " elements exceeds the bytes left");
  for (std::uint64_t i = 0; i < count; ++i) skip_metadata_value(in, element_type, key, depth + 1);
}

// Reads `count` key/values (u64-length key, u32 type, value) from the cursor.
inline std::vector<MetadataEntry> read_metadata(ByteCursor& in, std::uint64_t count) {
  // Each entry takes at least 8 + 4 + 1 bytes.
  if (count > in.remaining() / 13) in.fail("metadata count ", count, " exceeds what ", in.remaining(), " bytes can hold");
  std::vector<MetadataEntry> entries;
  entries.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    MetadataEntry entry;
    entry.key = in.string("metadata key");
    for (const MetadataEntry& seen : entries) {
      if (seen.key == entry.key) in.fail("duplicate metadata key \"", entry.key, "\"");
    }
    const std::uint32_t type = in.u32("metadata type");
    if (type > static_cast<std::uint32_t>(MetadataType::f64)) in.fail("key \"", entry.key, "\" has unknown value type ", type);
    entry.type = static_cast<MetadataType>(type);
    entry.value = in.here();
    const std::size_t start = in.offset();
    skip_metadata_value(in, type, entry.key, 0);
    entry.value_bytes = in.offset() - start;
    entries.push_back(std::move(entry));
  }
  return entries;
}

inline void put_metadata_string(std::vector<std::uint8_t>& out, const std::string& s) {
  put_le(out, s.size(), 8);
  out.insert(out.end(), s.begin(), s.end());
}

// Encodes one entry (key, type, value) the way read_metadata reads it.
inline void put_metadata_entry(std::vector<std::uint8_t>& out, const MetadataEntry& entry) {
  put_metadata_string(out, entry.key);
  put_le(out, static_cast<std::uint32_t>(entry.type), 4);
  out.insert(out.end(), entry.value, entry.value + entry.value_bytes);
}

inline double metadata_scalar(MetadataType type, const std::uint8_t* p) {
  switch (type) {
    case MetadataType::u8: return p[0];
    case MetadataType::i8: return static_cast<std::int8_t>(p[0]);
    case MetadataType::boolean: return p[0] != 0 ? 1.0 : 0.0;
    case MetadataType::u16: return static_cast<double>(get_le(p, 2));
    case MetadataType::i16: return static_cast<std::int16_t>(get_le(p, 2));
    case MetadataType::u32: return static_cast<double>(get_le(p, 4));
    case MetadataType::i32: return static_cast<std::int32_t>(get_le(p, 4));
    case MetadataType::f32: return static_cast<double>(bits_float(static_cast<std::uint32_t>(get_le(p, 4))));
    case MetadataType::u64: return static_cast<double>(get_le(p, 8));
    case MetadataType::i64: return static_cast<double>(static_cast<std::int64_t>(get_le(p, 8)));
    case MetadataType::f64: {
      const std::uint64_t bits = get_le(p, 8);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    default: return 0.0;
  }
}

}  // namespace detail

inline double MetadataEntry::as_double() const {
  if (detail::scalar_metadata_bytes(static_cast<std::uint32_t>(type)) == 0) {
    detail::throw_format_error("MetadataEntry::as_double", "key \"", key, "\" holds a ", metadata_type_name(type), ", not a number");
  }
  return detail::metadata_scalar(type, value);
}

inline std::uint64_t MetadataEntry::as_u64() const {
  switch (type) {
    case MetadataType::u8: case MetadataType::u16: case MetadataType::u32: case MetadataType::u64:
      return detail::get_le(value, static_cast<int>(detail::scalar_metadata_bytes(static_cast<std::uint32_t>(type))));
    default:
      detail::throw_format_error("MetadataEntry::as_u64", "key \"", key, "\" holds a ", metadata_type_name(type),
                                 ", not an unsigned integer");
  }
}

inline std::string MetadataEntry::as_string() const {
  if (type != MetadataType::string) {
    detail::throw_format_error("MetadataEntry::as_string", "key \"", key, "\" holds a ", metadata_type_name(type), ", not a string");
  }
  return std::string(reinterpret_cast<const char*>(value + 8), value_bytes - 8);
}

inline MetadataType MetadataEntry::array_type() const {
  if (type != MetadataType::array) detail::throw_format_error("MetadataEntry::array_type", "key \"", key, "\" is not an array");
  return static_cast<MetadataType>(detail::get_le(value, 4));
}

inline std::uint64_t MetadataEntry::array_size() const {
  if (type != MetadataType::array) detail::throw_format_error("MetadataEntry::array_size", "key \"", key, "\" is not an array");
  return detail::get_le(value + 4, 8);
}

inline std::string MetadataEntry::describe(std::size_t max_items) const {
  std::string out;
  const auto quote = [](const std::uint8_t* p, std::size_t n) {
    std::string s = "\"";
    for (std::size_t i = 0; i < n && i < 60; ++i) {
      const char c = static_cast<char>(p[i]);
      s += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return s + (n > 60 ? "...\"" : "\"");
  };
  const auto scalar = [](MetadataType t, const std::uint8_t* p) {
    switch (t) {
      case MetadataType::boolean: return std::string(p[0] != 0 ? "true" : "false");
      case MetadataType::f32: case MetadataType::f64: return detail::concat(detail::metadata_scalar(t, p));
      case MetadataType::i8: case MetadataType::i16: case MetadataType::i32: case MetadataType::i64: {
        const int bytes = static_cast<int>(detail::scalar_metadata_bytes(static_cast<std::uint32_t>(t)));
        const std::uint64_t raw = detail::get_le(p, bytes);
        const std::uint64_t sign_bit = std::uint64_t{1} << (8 * bytes - 1);
        const std::int64_t signed_value = (raw & sign_bit) && bytes < 8 ? static_cast<std::int64_t>(raw | ~(sign_bit * 2 - 1))
                                                                 : static_cast<std::int64_t>(raw);
        return std::to_string(signed_value);
      }
      default: return std::to_string(detail::get_le(p, static_cast<int>(detail::scalar_metadata_bytes(static_cast<std::uint32_t>(t)))));
    }
  };
  if (type == MetadataType::string) return quote(value + 8, value_bytes - 8);
  if (type != MetadataType::array) return scalar(type, value);
  const MetadataType element = array_type();
  const std::uint64_t count = array_size();
  out = detail::concat("[", metadata_type_name(element), " x ", count, "]");
  const std::size_t scalar_bytes = detail::scalar_metadata_bytes(static_cast<std::uint32_t>(element));
  const std::uint8_t* p = value + 12;
  out += " {";
  for (std::uint64_t i = 0; i < count && i < max_items; ++i) {
    if (i > 0) out += ", ";
    if (scalar_bytes != 0) {
      out += scalar(element, p + i * scalar_bytes);
    } else if (element == MetadataType::string) {
      const std::size_t length = static_cast<std::size_t>(detail::get_le(p, 8));
      out += quote(p + 8, length);
      p += 8 + length;
    } else {
      out += "...";
      break;
    }
  }
  return out + (count > max_items ? ", ...}" : "}");
}

TRIT_END_NAMESPACE
