// trit: a zero-initialised, 64-byte-aligned, move-only array of trivially copyable values.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

template <class T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable<T>::value, "AlignedBuffer holds plain values only");

 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count) : size_(count) {
    if (count == 0) return;
    if (count > static_cast<std::size_t>(-1) / sizeof(T)) {
      raise<std::bad_array_new_length>("bad_array_new_length", "trit: an aligned buffer's size overflows");
    }
    void* raw = ::operator new(count * sizeof(T), std::align_val_t(kAlignment));
    std::memset(raw, 0, count * sizeof(T));
    data_.reset(static_cast<T*>(raw));
  }

  AlignedBuffer(const AlignedBuffer& other) : AlignedBuffer(other.size_) {
    if (size_ != 0) std::memcpy(data_.get(), other.data_.get(), size_ * sizeof(T));
  }
  AlignedBuffer& operator=(const AlignedBuffer& other) {
    if (this != &other) *this = AlignedBuffer(other);
    return *this;
  }
  AlignedBuffer(AlignedBuffer&&) noexcept = default;
  AlignedBuffer& operator=(AlignedBuffer&&) noexcept = default;

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_.get()[i]; }
  const T& operator[](std::size_t i) const { return data_.get()[i]; }

 private:
  struct Deleter {
    void operator()(T* p) const { ::operator delete(p, std::align_val_t(kAlignment)); }
  };
  std::unique_ptr<T, Deleter> data_;
  std::size_t size_ = 0;
};

}  // namespace detail
TRIT_END_NAMESPACE
