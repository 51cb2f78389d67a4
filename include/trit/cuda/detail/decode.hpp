// trit::cuda: the word-level arithmetic of the kernels: Dense243 decoding four bytes at a time,
// int4 unpacking, and 4-way int8 dot products. Every function compiles for the device and
// for the host, so the CPU tests check this exact code against the scalar reference.
#pragma once

#include <cstdint>
#include <cstring>

#include "trit/cuda/config.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {
namespace detail {

// 16 bytes as four little-endian words: what one 128-bit load returns.
struct Words16 {
  std::uint32_t w[4];
};

// 8 bytes as two little-endian words.
struct Words8 {
  std::uint32_t w[2];
};

// Byte n of the result is byte (selector >> 4n) & 7 of the 8 bytes {hi:lo}.
TRIT_CUDA_HD std::uint32_t byte_perm(std::uint32_t lo, std::uint32_t hi, std::uint32_t selector) {
#if defined(__CUDA_ARCH__)
  return __byte_perm(lo, hi, selector);
#else
  const std::uint64_t bytes = (static_cast<std::uint64_t>(hi) << 32) | lo;
  std::uint32_t out = 0;
  for (int n = 0; n < 4; ++n) {
    const unsigned index = (selector >> (4 * n)) & 7u;
    out |= static_cast<std::uint32_t>((bytes >> (8 * index)) & 0xFFu) << (8 * n);
  }
  return out;
#endif
}

// acc + sum over the four byte lanes of a * b, both read as int8.
TRIT_CUDA_HD int dot4(std::uint32_t a, std::uint32_t b, int acc) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 610
  return __dp4a(static_cast<int>(a), static_cast<int>(b), acc);
#else
  for (int n = 0; n < 4; ++n) {
    acc += static_cast<int>(static_cast<std::int8_t>(a >> (8 * n))) *
           static_cast<int>(static_cast<std::int8_t>(b >> (8 * n)));
  }
  return acc;
#endif
}

// acc + sum over the four byte lanes of a (read as uint8) * b (read as int8), modulo 2^32
// (dp4a.u32.s32). The host copy adds in unsigned arithmetic so that a wrapped partial sum
// stays defined; only the final sum is known to fit an int32.
TRIT_CUDA_HD int dot4_us(std::uint32_t a, std::uint32_t b, int acc) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 610
  int out;
  asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(out) : "r"(a), "r"(b), "r"(acc));
  return out;
#else
  std::uint32_t sum = static_cast<std::uint32_t>(acc);
  for (int n = 0; n < 4; ++n) {
    sum += static_cast<std::uint32_t>(static_cast<int>((a >> (8 * n)) & 0xFFu) *
                                      static_cast<int>(static_cast<std::int8_t>(b >> (8 * n))));
  }
  return static_cast<int>(sum);
#endif
}

// a - b modulo 2^32, for sums whose parts may wrap.
TRIT_CUDA_HD std::int32_t wrapping_sub(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) - static_cast<std::uint32_t>(b));
}
TRIT_CUDA_HD std::int32_t wrapping_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

// Four Dense243 bytes, decoded to their digits (0, 1, 2 = trit + 1) one digit at a time, at
// about one instruction per digit and byte. The chain of docs/FORMAT.md reduces mod 256 at
// every step; this does not: with y_i = 3^i b, digit i is H_{i+1} - 3 H_i where H_i is
// y_i >> 8 (since y_i = 256 H_i + x_i, y_{i+1} = 768 H_i + 3 x_i). 3^5 * 255 < 2^16, so even
// and odd bytes each sit in a 16-bit lane that one multiply by 3 advances with no carry into
// its neighbour, and one byte permute gathers the four high bytes H. H_4 <= 80, so 3 H per
// byte stays below 256 and H_{i+1} - 3 H_i is a plain 32-bit multiply-subtract whose bytes
// never borrow. Per digit: two multiplies, a permute and a multiply-add for four bytes.
// The digits are unsigned; the caller takes the trits' -1 as minus the activations' sum.
class DigitDecoder {
 public:
  TRIT_CUDA_HD DigitDecoder() : even_(0), odd_(0), high_(0) {}
  TRIT_CUDA_HD explicit DigitDecoder(std::uint32_t packed)
      : even_(packed & 0x00FF00FFu), odd_(byte_perm(packed, 0u, 0x4341u)), high_(0) {}

  // Digits (0..2) of the next position of the four bytes as uint8 lanes, lane n from byte n.
  TRIT_CUDA_HD std::uint32_t next_digits() {
    even_ *= 3u;
    odd_ *= 3u;
    const std::uint32_t high = byte_perm(even_, odd_, 0x7351u);
    const std::uint32_t digits = high - 3u * high_;
    high_ = high;
    return digits;
  }

 private:
  std::uint32_t even_;  // 3^i * bytes 0 and 2, one per 16-bit lane
  std::uint32_t odd_;   // 3^i * bytes 1 and 3
  std::uint32_t high_;  // H_i of the four bytes
};

// Four Dense243 bytes, decoded one digit at a time by the chain of docs/FORMAT.md
// (x <- 3x mod 256, digit = 3x >> 8) on all four bytes at once. Even and odd bytes live in
// separate 16-bit lanes so that tripling a byte never carries into its neighbour; the digit
// is then the high byte of each lane, which one byte permute gathers.
class TritChain {
 public:
  TRIT_CUDA_HD TritChain() : even_(0), odd_(0) {}
  TRIT_CUDA_HD explicit TritChain(std::uint32_t packed)
      : even_(packed & 0x00FF00FFu), odd_((packed >> 8) & 0x00FF00FFu) {}

  // The trits of the next digit of the four bytes, as int8 lanes (-1 is 0xFF), lane n from
  // byte n.
  TRIT_CUDA_HD std::uint32_t next_trits() {
    const std::uint32_t even3 = even_ * 3u;
    const std::uint32_t odd3 = odd_ * 3u;
    even_ = even3 & 0x00FF00FFu;
    odd_ = odd3 & 0x00FF00FFu;
    const std::uint32_t digits = byte_perm(even3, odd3, 0x7351u);
    // digit - 1 per byte with no borrow between bytes: digit + 0x7F stays below 0x100, and
    // flipping bit 7 then subtracts the 0x80 bias.
    return (digits + 0x7F7F7F7Fu) ^ 0x80808080u;
  }

 private:
  std::uint32_t even_;
  std::uint32_t odd_;
};

// Trit i (0..4) of one Dense243 byte, by the same chain run on one byte (tail groups).
TRIT_CUDA_HD int byte_trit(std::uint32_t byte, int digit) {
  std::uint32_t chain = byte;
  for (int step = 0; step < digit; ++step) chain = (chain * 3u) & 0xFFu;
  return static_cast<int>((chain * 3u) >> 8) - 1;
}

// Eight packed int4 values (byte b holds value 2b in its low nibble and 2b + 1 in its high
// nibble) as eight int8 lanes: values 0..3 in .w[0], 4..7 in .w[1].
TRIT_CUDA_HD Words8 unpack_int4x8(std::uint32_t packed) {
  // Sign extension per byte without borrows: (nibble ^ 8) + 0x78 stays below 0x100, and
  // flipping bit 7 afterwards leaves (nibble ^ 8) - 8, the two's complement value.
  const std::uint32_t low = ((packed & 0x0F0F0F0Fu) ^ 0x08080808u) + 0x78787878u;
  const std::uint32_t high = (((packed >> 4) & 0x0F0F0F0Fu) ^ 0x08080808u) + 0x78787878u;
  Words8 out;
  out.w[0] = byte_perm(low, high, 0x5140u) ^ 0x80808080u;
  out.w[1] = byte_perm(low, high, 0x7362u) ^ 0x80808080u;
  return out;
}

// 16 packed int4 values (8 bytes) as 16 int8 lanes.
TRIT_CUDA_HD Words16 unpack_int4x16(const Words8& packed) {
  const Words8 first = unpack_int4x8(packed.w[0]);
  const Words8 second = unpack_int4x8(packed.w[1]);
  return Words16{{first.w[0], first.w[1], second.w[0], second.w[1]}};
}

// ---- Loads -----------------------------------------------------------------------------------
// Global loads go through the read-only path on the device; on the host they are plain
// copies, so the CPU replay reads the same bytes.

TRIT_CUDA_HD Words16 load_global16(const void* aligned16) {
#if defined(__CUDA_ARCH__)
  const uint4 v = __ldg(static_cast<const uint4*>(aligned16));
  return Words16{{v.x, v.y, v.z, v.w}};
#else
  Words16 out;
  std::memcpy(out.w, aligned16, sizeof(out.w));
  return out;
#endif
}

TRIT_CUDA_HD Words8 load_global8(const void* aligned8) {
#if defined(__CUDA_ARCH__)
  const uint2 v = __ldg(static_cast<const uint2*>(aligned8));
  return Words8{{v.x, v.y}};
#else
  Words8 out;
  std::memcpy(out.w, aligned8, sizeof(out.w));
  return out;
#endif
}

// Little-endian words from bytes at any alignment.
TRIT_CUDA_HD std::uint32_t load_word_bytes(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

TRIT_CUDA_HD Words16 load_bytes16(const std::uint8_t* p) {
  return Words16{{load_word_bytes(p), load_word_bytes(p + 4), load_word_bytes(p + 8), load_word_bytes(p + 12)}};
}

TRIT_CUDA_HD Words8 load_bytes8(const std::uint8_t* p) {
  return Words8{{load_word_bytes(p), load_word_bytes(p + 4)}};
}

// Shared memory (the device) or a host staging buffer (the CPU replay).
TRIT_CUDA_HD Words16 load_staged16(const std::uint8_t* aligned16) {
#if defined(__CUDA_ARCH__)
  const uint4 v = *reinterpret_cast<const uint4*>(aligned16);
  return Words16{{v.x, v.y, v.z, v.w}};
#else
  Words16 out;
  std::memcpy(out.w, aligned16, sizeof(out.w));
  return out;
#endif
}

TRIT_CUDA_HD Words8 load_staged8(const std::uint8_t* aligned8) {
#if defined(__CUDA_ARCH__)
  const uint2 v = *reinterpret_cast<const uint2*>(aligned8);
  return Words8{{v.x, v.y}};
#else
  Words8 out;
  std::memcpy(out.w, aligned8, sizeof(out.w));
  return out;
#endif
}

TRIT_CUDA_HD void store_staged16(std::uint8_t* aligned16, const Words16& value) {
#if defined(__CUDA_ARCH__)
  *reinterpret_cast<uint4*>(aligned16) = make_uint4(value.w[0], value.w[1], value.w[2], value.w[3]);
#else
  std::memcpy(aligned16, value.w, sizeof(value.w));
#endif
}

}  // namespace detail
}  // namespace cuda
TRIT_END_NAMESPACE
