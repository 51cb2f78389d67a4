// trit: files. A read-only memory mapping (what loaders and map_file read through), and the
// atomic write every saver uses: a temporary file in the destination's directory, written,
// flushed, fsynced and closed with every step checked, then renamed over the destination. A
// failure or a crash at any point leaves the previous file intact.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "trit/error.hpp"
#include "trit/version.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define TRIT_HAS_POSIX_FILES 1
#else
#define TRIT_HAS_POSIX_FILES 0
#include <fstream>
#include <vector>
#endif

TRIT_BEGIN_NAMESPACE

// Raised when a file cannot be opened, read, written, synced or renamed.
class io_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <class... Parts>
[[noreturn]] void throw_io_error(const char* function, const std::string& path, Parts&&... parts) {
  raise<io_error>("io_error", concat("trit::", function, ": ", path, ": ", std::forward<Parts>(parts)...));
}

inline std::string errno_text(int error) { return std::strerror(error); }

}  // namespace detail

// A whole regular file, mapped read-only (or, where there is no mmap, read into memory).
// Move-only; the bytes stay valid and unchanged while the object lives.
class MappedFile {
 public:
  MappedFile() = default;

  // Throws io_error for a file that cannot be opened, is not a regular file (a directory,
  // /dev/zero, a pipe) or cannot be mapped.
  static MappedFile open(const std::string& path) {
    constexpr const char* fn = "MappedFile::open";
    MappedFile file;
#if TRIT_HAS_POSIX_FILES
    // O_NONBLOCK: opening a FIFO must not wait for a writer before the regular-file check
    // refuses it. It changes nothing for a regular file.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) detail::throw_io_error(fn, path, "cannot open: ", detail::errno_text(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      const int error = errno;
      ::close(fd);
      detail::throw_io_error(fn, path, "cannot stat: ", detail::errno_text(error));
    }
    if (!S_ISREG(info.st_mode)) {
      ::close(fd);
      detail::throw_io_error(fn, path, "is not a regular file");
    }
    file.size_ = static_cast<std::size_t>(info.st_size);
    if (file.size_ != 0) {
      void* mapped = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (mapped == MAP_FAILED) {
        const int error = errno;
        ::close(fd);
        detail::throw_io_error(fn, path, "cannot map ", file.size_, " bytes: ", detail::errno_text(error));
      }
      file.data_ = static_cast<const std::uint8_t*>(mapped);
    }
    ::close(fd);
#else
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) detail::throw_io_error(fn, path, "cannot open");
    file.copy_.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(file.copy_.data()), static_cast<std::streamsize>(file.copy_.size()));
    if (!in) detail::throw_io_error(fn, path, "cannot read");
    file.size_ = file.copy_.size();
    file.data_ = file.copy_.data();
#endif
    file.path_ = path;
    return file;
  }

  MappedFile(MappedFile&& other) noexcept { swap(other); }
  MappedFile& operator=(MappedFile&& other) noexcept {
    MappedFile(std::move(other)).swap(*this);
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
#if TRIT_HAS_POSIX_FILES
    if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
#endif
  }

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Lets the whole pages inside [offset, offset + bytes) leave the process's resident set:
  // they stay in the page cache and come back, unchanged, on the next read. A loader that has
  // checked a large file calls it so that checking does not leave the whole file resident.
  // Only a hint: nothing happens where the file was read into memory instead of mapped.
  void release_pages(std::size_t offset, std::size_t bytes) const noexcept {
#if TRIT_HAS_POSIX_FILES
    if (data_ == nullptr || offset >= size_) return;
    bytes = std::min(bytes, size_ - offset);
    const long page_size = ::sysconf(_SC_PAGESIZE);
    if (page_size <= 0) return;
    const auto page = static_cast<std::uintptr_t>(page_size);
    const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(data_ + offset) + page - 1) / page * page;
    const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(data_ + offset + bytes) / page * page;
    // The mapping is private and read-only, so dropping its pages loses nothing.
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
#else
    (void)offset, (void)bytes;
#endif
  }
  // Whether p lies inside the mapping (tests use it to show that nothing was copied).
  bool contains(const void* p) const {
    const auto* byte = static_cast<const std::uint8_t*>(p);
    return data_ != nullptr && byte >= data_ && byte < data_ + size_;
  }

 private:
  void swap(MappedFile& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(path_, other.path_);
#if !TRIT_HAS_POSIX_FILES
    std::swap(copy_, other.copy_);
#endif
  }

  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::string path_;
#if !TRIT_HAS_POSIX_FILES
  std::vector<std::uint8_t> copy_;
#endif
};

namespace detail {

// Writes `size` bytes to `path` atomically (see the top of this file). Throws io_error.
// `write_all(put)` is called once and must call put(data, size) for each piece in order.
// The file a save replaces: `path`, or where a symbolic link at `path` points (the link
// stays a link). Throws io_error for an existing destination that is not a regular file: a
// rename would replace a device, a FIFO or a directory entry with a regular file.
inline std::string save_destination(const std::string& path, const char* fn) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return path;  // a new file
  std::string target = path;
  if (S_ISLNK(info.st_mode)) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (resolved == nullptr) return path;  // a dangling link: replace the link itself
    target = resolved;
    std::free(resolved);
    if (::stat(target.c_str(), &info) != 0) return target;
  }
  if (!S_ISREG(info.st_mode)) throw_io_error(fn, path, "is not a regular file; refusing to replace it");
  return target;
}

// Makes a rename durable: the directory entry is written when the directory is synced.
inline void sync_directory_of(const std::string& path) {
  const std::string::size_type slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (fd < 0) return;  // best effort: the new file is complete either way
  (void)::fsync(fd);
  ::close(fd);
}

template <class Producer>
void write_file_atomically(const std::string& requested_path, const char* fn, const Producer& write_all) {
#if TRIT_HAS_POSIX_FILES
  const std::string path = save_destination(requested_path, fn);
  std::string temp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(&temp[0]);
  if (fd < 0) throw_io_error(fn, path, "cannot create a temporary file beside it: ", errno_text(errno));
  const auto fail = [&](const char* what, int error) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw_io_error(fn, path, what, errno_text(error));
  };
  const auto put = [&](const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    while (size > 0) {
      const ::ssize_t written = ::write(fd, bytes, size);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) fail("cannot write: ", written < 0 ? errno : ENOSPC);
      bytes += written;
      size -= static_cast<std::size_t>(written);
    }
  };
#if TRIT_EXCEPTIONS
  try {
    write_all(put);
  } catch (const io_error&) {
    throw;
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
#else
  write_all(put);
#endif
  // Readable like a file the user would have created (mkstemp makes it owner-only).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) fail("cannot set permissions: ", errno);
  if (::fsync(fd) != 0) fail("cannot sync: ", errno);
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw_io_error(fn, path, "cannot close: ", errno_text(error));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw_io_error(fn, path, "cannot rename the temporary file over it: ", errno_text(error));
  }
  sync_directory_of(path);
#else
  const std::string& path = requested_path;
  std::ofstream out(path, std::ios::binary);
  if (!out) throw_io_error(fn, path, "cannot open for writing");
  write_all([&](const void* data, std::size_t size) {
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  });
  out.close();
  if (!out) throw_io_error(fn, path, "cannot write");
#endif
}

inline void write_file_atomically(const std::string& path, const char* fn, const void* data, std::size_t size) {
  write_file_atomically(path, fn, [&](const auto& put) { put(data, size); });
}

}  // namespace detail
TRIT_END_NAMESPACE
