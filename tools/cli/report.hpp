#pragma once
// Results of a command: an ordered list of (key, value) pairs printed as a human-readable table
// and as JSON (stdout with --json, or a file with --output-json).
#include <gift/io/atomic_file.hpp>
#include <gift/io/json.hpp>

#include "progress.hpp"

#include <cmath>
#include <span>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace gift::cli {

class report {
public:
  using value = std::variant<std::string, double, std::int64_t, bool>;

  explicit report(std::string command) : command_(std::move(command)) {}
  report& add(std::string key, value v) {
    entries_.emplace_back(std::move(key), std::move(v));
    return *this;
  }

  [[nodiscard]] std::string json() const {
    std::ostringstream out;
    out << "{\"command\": " << quote(command_);
    for (const auto& [key, v] : entries_) out << ", " << quote(key) << ": " << json_value(v);
    out << "}";
    return out.str();
  }
  void print_table(std::ostream& out) const {
    std::size_t width = 8;
    for (const auto& [key, v] : entries_) width = std::max(width, key.size());
    const std::string rule(width + 26, '-');
    out << rule << "\n" << "gift " << command_ << "\n" << rule << "\n";
    for (const auto& [key, v] : entries_) out << std::left << std::setw(static_cast<int>(width) + 2) << key << text(v) << "\n";
    out << rule << "\n";
  }
  /// Table on stderr (stdout when JSON is not going there), JSON to stdout and/or a file.
  /// Nothing on the quiet ranks of a data-parallel run: rank 0 reports for all.
  void emit(bool json_to_stdout, const std::string& json_path) const {
    if (quiet_rank) return;
    if (!nested_command) print_table(json_to_stdout ? std::cerr : std::cout);
    if (json_to_stdout) std::cout << json() << std::endl;
    if (!json_path.empty()) {
      const std::string body = json() + "\n";
      io::write_file_atomically(json_path, std::as_bytes(std::span<const char>(body.data(), body.size())));
    }
  }

private:
  static std::string quote(const std::string& s) { return gift::io::json_quote(s); }
  static std::string json_value(const value& v) {
    if (const auto* s = std::get_if<std::string>(&v)) return quote(*s);
    if (const auto* d = std::get_if<double>(&v)) {
      if (!std::isfinite(*d)) return "null";
      std::ostringstream out;
      out << std::setprecision(10) << *d;
      return out.str();
    }
    if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    return std::get<bool>(v) ? "true" : "false";
  }
  static std::string text(const value& v) {
    if (const auto* d = std::get_if<double>(&v)) {
      std::ostringstream out;
      out << std::setprecision(6) << *d;
      return out.str();
    }
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    return json_value(v);
  }
  std::string command_;
  std::vector<std::pair<std::string, value>> entries_;
};

}  // namespace gift::cli
