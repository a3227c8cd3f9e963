#pragma once
// Hand-written command-line parsing for the gift tool: each subcommand declares its options
// (name, default, help) and gets `--help` for free. Values are `--name value` or `--name=value`.
#include <gift/error.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace gift::cli {

/// The declared options of one subcommand and, after `parse`, their values.
class arguments {
public:
  arguments(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {}

  /// Declares `--name <value>` with a default ("" with `required` for a mandatory one).
  arguments& option(const std::string& name, std::string default_value, std::string help, bool required = false) {
    options_.push_back({name, std::move(default_value), std::move(help), false, required, kind::text, 0, 0, 0, 0});
    return *this;
  }
  /// Declares `--name <integer>` that must lie in [lo, hi]; checked (default included) by `parse`,
  /// before any work starts.
  arguments& integer_option(const std::string& name, std::string default_value, std::string help, std::int64_t lo,
                            std::int64_t hi) {
    options_.push_back({name, std::move(default_value), std::move(help), false, false, kind::integer, 0, 0, lo, hi});
    return *this;
  }
  /// Declares `--name <number>` that must be finite and lie in [lo, hi]; checked by `parse`.
  arguments& number_option(const std::string& name, std::string default_value, std::string help, double lo, double hi) {
    options_.push_back({name, std::move(default_value), std::move(help), false, false, kind::number, lo, hi, 0, 0});
    return *this;
  }
  /// Declares a switch `--name`.
  arguments& flag(const std::string& name, std::string help) {
    options_.push_back({name, "0", std::move(help), true, false, kind::text, 0, 0, 0, 0});
    return *this;
  }

  /// Declares the two options every command's result has: `--json` (print it as JSON on stdout;
  /// `json_note` says what else happens then) and `--output-json FILE` (also write it there).
  arguments& result_options(const std::string& what = "result", const std::string& json_note = "") {
    flag("json", "print the " + what + " as JSON on stdout" + json_note);
    return option("output-json", "", "also write the JSON " + what + " to this file");
  }

  /// Parses argv[first..]; returns false (after printing help) for `--help`.
  /// \throws gift::error naming an unknown option, a missing value or a missing required option.
  bool parse(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string token = argv[i];
      if (token == "--help" || token == "-h") {
        print_help(std::cout);
        return false;
      }
      gift::require(token.rfind("--", 0) == 0, "gift ", command_, ": unexpected argument '", token,
                    "'; options start with -- (see gift ", command_, " --help)");
      token = token.substr(2);
      std::string value;
      bool has_value = false;
      if (const auto eq = token.find('='); eq != std::string::npos) {
        value = token.substr(eq + 1);
        token = token.substr(0, eq);
        has_value = true;
      }
      const spec* s = find(token);
      gift::require(s != nullptr, "gift ", command_, ": unknown option --", token, " (see gift ", command_,
                    " --help)");
      if (s->is_flag) {
        values_[token] = has_value ? value : "1";
        continue;
      }
      if (!has_value) {
        gift::require(i + 1 < argc, "gift ", command_, ": option --", token, " needs a value");
        value = argv[++i];
      }
      values_[token] = value;
    }
    for (const auto& s : options_) {
      gift::require(!s.required || values_.count(s.name) != 0, "gift ", command_, ": option --", s.name,
                    " is required (", s.help, ")");
      check_range(s);
    }
    return true;
  }

  /// The value of `--name` (its default when not given).
  [[nodiscard]] std::string get(const std::string& name) const {
    if (const auto it = values_.find(name); it != values_.end()) return it->second;
    const spec* s = find(name);
    gift::require(s != nullptr, "gift ", command_, ": internal: option --", name, " was never declared");
    return s->default_value;
  }
  /// Every declared option with its value (default when not given), in declaration order;
  /// integers and numbers written canonically (`1e-3` and `0.001` give the same text).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> effective_values() const {
    std::vector<std::pair<std::string, std::string>> all;
    for (const auto& s : options_) {
      std::string value = get(s.name);
      if (s.type == kind::integer) {
        value = std::to_string(integer(s.name));
      } else if (s.type == kind::number) {
        char text[32];
        std::snprintf(text, sizeof text, "%.17g", number(s.name));
        value = text;
      } else if (s.is_flag) {
        value = on(s.name) ? "on" : "off";
      }
      all.emplace_back(s.name, std::move(value));
    }
    return all;
  }
  /// Whether `--name` was given explicitly.
  [[nodiscard]] bool given(const std::string& name) const { return values_.count(name) != 0; }
  /// Integer value, with a message naming the option when it is not one.
  [[nodiscard]] std::int64_t integer(const std::string& name) const {
    const std::string text = get(name);
    std::size_t used = 0;
    std::int64_t value = 0;
    try {
      value = std::stoll(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    gift::require(used == text.size() && !text.empty(), "gift ", command_, ": --", name,
                  " must be an integer, but is '", text, "'");
    return value;
  }
  /// Floating-point value.
  [[nodiscard]] double number(const std::string& name) const {
    const std::string text = get(name);
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    gift::require(used == text.size() && !text.empty(), "gift ", command_, ": --", name,
                  " must be a number, but is '", text, "'");
    return value;
  }
  /// Switch value.
  [[nodiscard]] bool on(const std::string& name) const {
    const std::string v = get(name);
    return v == "1" || v == "true" || v == "yes" || v == "on";
  }

  /// Prints usage and every option with its default.
  void print_help(std::ostream& out) const {
    out << "usage: gift " << command_ << " [options]\n\n" << summary_ << "\n\noptions:\n";
    for (const auto& s : options_) {
      std::ostringstream left;
      left << "  --" << s.name << (s.is_flag ? "" : " <value>");
      out << std::left << std::setw(30) << left.str() << s.help;
      if (s.type != kind::text) out << " (" << range_text(s, false) << " .. " << range_text(s, true) << ")";
      if (s.required) out << " (required)";
      else if (!s.is_flag && !s.default_value.empty()) out << " [default: " << s.default_value << "]";
      out << "\n";
    }
    out << "  --help                      this text\n";
  }

private:
  enum class kind { text, integer, number };
  struct spec {
    std::string name, default_value, help;
    bool is_flag = false, required = false;
    kind type = kind::text;
    double lo = 0, hi = 0;                       // the allowed range of a number option
    std::int64_t integer_lo = 0, integer_hi = 0;  // of an integer option: exact (a double cannot hold 2^63 - 1)
  };
  /// Parses a typed option's value and checks its range, naming the option, the value and the range.
  void check_range(const spec& s) const {
    if (s.type == kind::text) return;
    if (s.type == kind::integer) {
      const std::int64_t value = integer(s.name);
      gift::require(value >= s.integer_lo && value <= s.integer_hi, "gift ", command_, ": --", s.name,
                    " must be in [", range_text(s, false), ", ", range_text(s, true), "], but is ", get(s.name),
                    " (", s.help, ")");
      return;
    }
    const double value = number(s.name);
    gift::require(std::isfinite(value) && value >= s.lo && value <= s.hi, "gift ", command_, ": --", s.name,
                  " must be in [", range_text(s, false), ", ", range_text(s, true), "], but is ", get(s.name),
                  " (", s.help, ")");
  }
  /// The lower (`upper` false) or upper bound of a typed option, as the user would type it.
  static std::string range_text(const spec& s, bool upper) {
    std::ostringstream out;
    if (s.type == kind::integer) {
      out << (upper ? s.integer_hi : s.integer_lo);
    } else {
      out << (upper ? s.hi : s.lo);
    }
    return out.str();
  }
  const spec* find(const std::string& name) const {
    for (const auto& s : options_)
      if (s.name == name) return &s;
    return nullptr;
  }
  std::string command_, summary_;
  std::vector<spec> options_;
  std::map<std::string, std::string> values_;
};

}  // namespace gift::cli
