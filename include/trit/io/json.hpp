// trit: a small strict JSON parser (RFC 8259) for safetensors headers and Hugging Face index and
// config files. Standard library only, so the readers stay header-only without a dependency.
// Strict because the input is untrusted: no trailing commas, comments, leading zeros, control
// characters in strings, lone surrogates, duplicate object keys or nesting beyond kMaxDepth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

class JsonValue {
 public:
  enum class Kind { null, boolean, number, string, array, object };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_number() const { return kind_ == Kind::number; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_array() const { return kind_ == Kind::array; }
  bool is_object() const { return kind_ == Kind::object; }

  bool as_bool() const { return boolean_; }
  double as_double() const { return number_; }
  // The number's text as written (kept so that 64-bit integers survive exactly).
  const std::string& number_text() const { return text_; }
  const std::string& as_string() const { return text_; }
  const std::vector<JsonValue>& items() const { return items_; }
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

  // Whether the number is a non-negative integer that fits 64 bits, and its value.
  bool is_uint64() const {
    if (kind_ != Kind::number || text_.empty() || text_.size() > 20) return false;
    for (char c : text_) {
      if (c < '0' || c > '9') return false;
    }
    return text_.size() < 20 || text_ <= "18446744073709551615";
  }
  std::uint64_t as_uint64() const { return std::strtoull(text_.c_str(), nullptr, 10); }

  // The member named key, or nullptr.
  const JsonValue* find(const std::string& key) const {
    for (const auto& member : members_) {
      if (member.first == key) return &member.second;
    }
    return nullptr;
  }

 private:
  friend class JsonParser;
  Kind kind_ = Kind::null;
  bool boolean_ = false;
  double number_ = 0.0;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

class JsonParser {
 public:
  static constexpr int kMaxDepth = 64;

  // Parses the whole text as one JSON value (whitespace around it allowed). Throws
  // format_error with `what` and the byte offset of the problem.
  static JsonValue parse(const char* text, std::size_t size, const std::string& what) {
    JsonParser parser(text, size, what);
    parser.skip_space();
    JsonValue value = parser.value(0);
    parser.skip_space();
    if (parser.at_ != size) parser.fail("unexpected data after the JSON value");
    return value;
  }
  static JsonValue parse(const std::string& text, const std::string& what) { return parse(text.data(), text.size(), what); }

 private:
  JsonParser(const char* text, std::size_t size, const std::string& what) : text_(text), size_(size), what_(what) {}

  [[noreturn]] void fail(const char* message) const {
    detail::throw_format_error("JsonParser", what_, ": ", message, " at byte ", at_);
  }
  bool more() const { return at_ < size_; }
  char peek() const { return more() ? text_[at_] : '\0'; }
  void expect(char c) {
    if (peek() != c) fail((std::string("expected '") + c + "'").c_str());
    ++at_;
  }
  void skip_space() {
    while (more() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) ++at_;
  }
  void literal(const char* word) {
    for (const char* p = word; *p != '\0'; ++p) {
      if (peek() != *p) fail("invalid literal");
      ++at_;
    }
  }

  JsonValue value(int depth) {
    if (depth > kMaxDepth) fail("nesting is too deep");
    JsonValue v;
    switch (peek()) {
      case '{': object(v, depth); break;
      case '[': array(v, depth); break;
      case '"':
        v.kind_ = JsonValue::Kind::string;
        v.text_ = string();
        break;
      case 't': literal("true"); v.kind_ = JsonValue::Kind::boolean; v.boolean_ = true; break;
      case 'f': literal("false"); v.kind_ = JsonValue::Kind::boolean; break;
      case 'n': literal("null"); break;
      default: number(v); break;
    }
    return v;
  }

  void object(JsonValue& v, int depth) {
    v.kind_ = JsonValue::Kind::object;
    expect('{');
    skip_space();
    if (peek() == '}') {
      ++at_;
      return;
    }
    for (;;) {
      skip_space();
      if (peek() != '"') fail("expected a string key");
      std::string key = string();
      if (v.find(key) != nullptr) fail(("duplicate key \"" + key + "\"").c_str());
      skip_space();
      expect(':');
      skip_space();
      JsonValue member = value(depth + 1);
      v.members_.emplace_back(std::move(key), std::move(member));
      skip_space();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      expect('}');
      return;
    }
  }

  void array(JsonValue& v, int depth) {
    v.kind_ = JsonValue::Kind::array;
    expect('[');
    skip_space();
    if (peek() == ']') {
      ++at_;
      return;
    }
    for (;;) {
      skip_space();
      v.items_.push_back(value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      expect(']');
      return;
    }
  }

  void number(JsonValue& v) {
    const std::size_t start = at_;
    if (peek() == '-') ++at_;
    if (peek() == '0') {
      ++at_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++at_;
    } else {
      fail("invalid value");
    }
    if (peek() == '.') {
      ++at_;
      if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit after '.'");
      while (peek() >= '0' && peek() <= '9') ++at_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++at_;
      if (peek() == '+' || peek() == '-') ++at_;
      if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit in the exponent");
      while (peek() >= '0' && peek() <= '9') ++at_;
    }
    v.kind_ = JsonValue::Kind::number;
    v.text_.assign(text_ + start, at_ - start);
    v.number_ = std::strtod(v.text_.c_str(), nullptr);
  }

  unsigned hex4() {
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      unsigned digit;
      if (c >= '0' && c <= '9') digit = static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') digit = static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') digit = static_cast<unsigned>(c - 'A' + 10);
      else fail("invalid \\u escape");
      code = code * 16 + digit;
      ++at_;
    }
    return code;
  }

  static void put_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (!more()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') {
        ++at_;
        return out;
      }
      if (c < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++at_;
        continue;
      }
      ++at_;
      const char e = peek();
      ++at_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned code = hex4();
          if (code >= 0xDC00 && code <= 0xDFFF) fail("lone low surrogate");
          if (code >= 0xD800 && code <= 0xDBFF) {
            if (peek() != '\\') fail("lone high surrogate");
            ++at_;
            if (peek() != 'u') fail("lone high surrogate");
            ++at_;
            const unsigned low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("invalid low surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          put_utf8(out, code);
          break;
        }
        default: --at_; fail("invalid escape");
      }
    }
  }

  const char* text_;
  std::size_t size_;
  std::string what_;
  std::size_t at_ = 0;
};

TRIT_END_NAMESPACE
