#pragma once
/// \file gift/io/hf_checkpoint.hpp
/// \brief Hugging Face checkpoint folders: reading (`hf_checkpoint`) and atomic writing
/// (`hf_checkpoint_writer`) of `config.json`, the weights as one `model.safetensors` or as shards
/// listed in `model.safetensors.index.json`, and the tokenizer files (gift/io/hf_tokenizer.hpp).
///
/// This header knows the folder, not the model: tensors are found by their names across shards
/// and `config.json` is offered as parsed JSON with typed accessors. Mapping names and
/// hyper-parameters to a LLaMA model is the work of `gift/model/hf_checkpoint.hpp`.
///
/// Reading validates what the folder promises: `config.json` is a JSON object; an index lists
/// only shards that exist, each tensor once, and every listed tensor is in its shard; every
/// shard is a valid safetensors file (gift/io/safetensors.hpp checks sizes and offsets).
///
/// \code
/// auto folder = gift::io::hf_checkpoint::open("SmolLM2-135M");
/// int layers = static_cast<int>(folder.config_integer("num_hidden_layers"));
/// gift::matrix<float> w = folder.read_matrix("model.layers.0.self_attn.q_proj.weight");
/// \endcode

#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/io/detail/json.hpp>
#include <gift/io/hf_tokenizer.hpp>
#include <gift/io/mapped_file.hpp>
#include <gift/io/safetensors.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::io {

/// File names of a checkpoint folder.
struct hf_file_names {
  static constexpr const char* config = "config.json";                        ///< model configuration
  static constexpr const char* generation_config = "generation_config.json";  ///< decoding defaults
  static constexpr const char* weights = "model.safetensors";                 ///< single weights file
  static constexpr const char* index = "model.safetensors.index.json";        ///< shard index
  static constexpr const char* tokenizer = "tokenizer.json";                  ///< tokenizers' serialisation
  static constexpr const char* tokenizer_config = "tokenizer_config.json";    ///< special tokens, chat template
  static constexpr const char* special_tokens_map = "special_tokens_map.json";  ///< special tokens
};

}  // namespace gift::io

namespace gift::detail {

/// The whole of a text file; throws naming `what` when it cannot be read.
inline std::string read_text(const std::filesystem::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), what, ": cannot read '", path.string(), "'; check that the file exists");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

/// Whether `name` is the name of a shard gift may write or remove ("model-00001-of-00004.safetensors").
inline bool is_shard_name(const std::string& name) {
  if (name.size() != 32 || name.rfind("model-", 0) != 0 || name.compare(11, 4, "-of-") != 0 ||
      name.compare(20, 12, ".safetensors") != 0)
    return false;
  for (std::size_t i : {6u, 7u, 8u, 9u, 10u, 15u, 16u, 17u, 18u, 19u})
    if (name[i] < '0' || name[i] > '9') return false;
  return true;
}

}  // namespace gift::detail

namespace gift::io {

/// A Hugging Face checkpoint folder opened for reading. Move-only; the shards stay mapped.
class hf_checkpoint {
public:
  /// Opens `folder`: parses config.json and maps the weights (single file or shards). The
  /// tokenizer files are read on demand by `tokenizer()`.
  /// \throws gift::error naming the folder, the file and the problem.
  [[nodiscard]] static hf_checkpoint open(const std::filesystem::path& folder) {
    namespace fs = std::filesystem;
    hf_checkpoint out;
    out.folder_ = folder;
    const std::string where = "gift::io::hf_checkpoint::open: '" + folder.string() + "'";
    std::error_code status;
    detail::require(fs::is_directory(folder, status), where,
                    " is not a folder; pass a Hugging Face checkpoint folder (config.json, model.safetensors, "
                    "tokenizer.json) or a .gguf file");
    const fs::path config = folder / hf_file_names::config;
    detail::require(fs::is_regular_file(config, status), where, " has no config.json; is it a checkpoint folder?");
    out.config_text_ = detail::read_text(config, where);
    detail::json_parser parser(out.config_text_, where + "/config.json");
    out.config_ = parser.parse_document();
    detail::require(out.config_.type == detail::json_value::kind::object, where, "/config.json must hold a JSON object");

    const fs::path index = folder / hf_file_names::index;
    if (fs::is_regular_file(index, status)) {
      const std::string text = detail::read_text(index, where);
      const std::string index_where = where + "/" + hf_file_names::index;
      detail::json_parser index_parser(text, index_where);
      const detail::json_value root = index_parser.parse_document();
      const detail::json_value* map = root.type == detail::json_value::kind::object ? root.find("weight_map") : nullptr;
      detail::require(map != nullptr && map->type == detail::json_value::kind::object, index_where,
                      " must hold an object with a \"weight_map\" object (tensor name -> shard file)");
      std::map<std::string, std::size_t> shard_of_file;
      for (const auto& [name, file] : map->object) {
        detail::require(file.type == detail::json_value::kind::string, index_where, ": weight_map entry '", name,
                        "' must name a file");
        detail::require(file.string.find('/') == std::string::npos && file.string.find('\\') == std::string::npos &&
                            file.string != ".." && !file.string.empty(),
                        index_where, ": weight_map entry '", name, "' names '", file.string,
                        "', which is not a file in the folder");
        auto [it, fresh] = shard_of_file.emplace(file.string, out.shards_.size());
        if (fresh) out.shards_.push_back(safetensors_file::open(folder / file.string));
        detail::require(out.where_.emplace(name, it->second).second, index_where, ": tensor '", name,
                        "' is listed twice");
        detail::require(out.shards_[it->second].find_tensor(name) != nullptr, index_where, ": tensor '", name,
                        "' is listed in '", file.string, "', which does not hold it");
      }
      out.shard_names_.resize(shard_of_file.size());
      for (const auto& [file, shard] : shard_of_file) out.shard_names_[shard] = file;
    } else {
      const fs::path weights = folder / hf_file_names::weights;
      detail::require(fs::is_regular_file(weights, status), where, " has neither ", hf_file_names::weights, " nor ",
                      hf_file_names::index, "; the weights are missing");
      out.shards_.push_back(safetensors_file::open(weights));
      out.shard_names_.push_back(hf_file_names::weights);
      for (const auto& info : out.shards_.front().tensors()) out.where_.emplace(info.name, 0);
    }
    return out;
  }

  /// The folder.
  [[nodiscard]] const std::filesystem::path& folder() const noexcept { return folder_; }
  /// config.json as parsed JSON.
  [[nodiscard]] const detail::json_value& config() const noexcept { return config_; }
  /// config.json as written.
  [[nodiscard]] const std::string& config_text() const noexcept { return config_text_; }

  /// The config.json entry `key`, or `nullptr` when absent or null.
  [[nodiscard]] const detail::json_value* config_value(std::string_view key) const {
    const detail::json_value* value = config_.find(key);
    return value == nullptr || value->type == detail::json_value::kind::null ? nullptr : value;
  }
  /// An integer entry of config.json; `fallback` when absent, else an error naming the key.
  [[nodiscard]] std::int64_t config_integer(std::string_view key, std::optional<std::int64_t> fallback = std::nullopt) const {
    const detail::json_value* value = config_value(key);
    if (value == nullptr) {
      detail::require(fallback.has_value(), context(), "config.json has no \"", key, "\"");
      return *fallback;
    }
    // The range check comes before the cast: converting 1e300 to int64 is undefined behaviour.
    // Both bounds are exact doubles (+-2^63).
    constexpr double low = -9223372036854775808.0;
    constexpr double high = 9223372036854775808.0;
    const bool is_number = value->type == detail::json_value::kind::number;
    detail::require(is_number && value->number >= low && value->number < high &&
                        value->number == std::trunc(value->number),
                    context(), "config.json \"", key, "\" must be an integer in [-2^63, 2^63), but it is ",
                    is_number ? gift::concat(value->number) : std::string(detail::json_kind_name(value->type)));
    return static_cast<std::int64_t>(value->number);
  }
  /// A numeric entry of config.json; `fallback` when absent.
  [[nodiscard]] double config_number(std::string_view key, std::optional<double> fallback = std::nullopt) const {
    const detail::json_value* value = config_value(key);
    if (value == nullptr) {
      detail::require(fallback.has_value(), context(), "config.json has no \"", key, "\"");
      return *fallback;
    }
    detail::require(value->type == detail::json_value::kind::number, context(), "config.json \"", key,
                    "\" must be a number");
    return value->number;
  }
  /// A boolean entry of config.json; `fallback` when absent.
  [[nodiscard]] bool config_bool(std::string_view key, bool fallback) const {
    const detail::json_value* value = config_value(key);
    if (value == nullptr) return fallback;
    detail::require(value->type == detail::json_value::kind::boolean, context(), "config.json \"", key,
                    "\" must be true or false");
    return value->boolean;
  }
  /// A string entry of config.json; `fallback` when absent.
  [[nodiscard]] std::string config_string(std::string_view key, std::string fallback = {}) const {
    const detail::json_value* value = config_value(key);
    if (value == nullptr) return fallback;
    detail::require(value->type == detail::json_value::kind::string, context(), "config.json \"", key,
                    "\" must be a string");
    return value->string;
  }

  /// The names of all tensors, sorted.
  [[nodiscard]] std::vector<std::string> tensor_names() const {
    std::vector<std::string> names;
    names.reserve(where_.size());
    for (const auto& [name, shard] : where_) names.push_back(name);
    return names;
  }
  /// The weight files, in the order first listed.
  [[nodiscard]] std::span<const std::string> weight_files() const noexcept { return shard_names_; }
  /// The tensor `name` and the file holding it, or `{nullptr, nullptr}`.
  [[nodiscard]] std::pair<const safetensors_file*, const safetensors_tensor_info*> find_tensor(std::string_view name) const {
    const auto it = where_.find(name);
    if (it == where_.end()) return {nullptr, nullptr};
    const safetensors_file& file = shards_[it->second];
    return {&file, file.find_tensor(name)};
  }
  /// Whether the tensor `name` exists.
  [[nodiscard]] bool has_tensor(std::string_view name) const { return where_.find(name) != where_.end(); }
  /// The tensor `name` and its file; throws naming the folder when it is missing.
  [[nodiscard]] std::pair<const safetensors_file*, const safetensors_tensor_info*> tensor(std::string_view name) const {
    const auto found = find_tensor(name);
    detail::require(found.second != nullptr, context(), "no tensor '", name, "' in the weights; is the checkpoint ",
                    "complete and of the expected architecture?");
    return found;
  }
  /// A tensor as a row-major `rows × cols` float matrix (F32, F16, BF16 or F64).
  [[nodiscard]] gift::matrix<float> read_matrix(std::string_view name) const {
    const auto [file, info] = tensor(name);
    gift::matrix<float> out(static_cast<Eigen::Index>(info->rows()), static_cast<Eigen::Index>(info->columns()));
    file->read_into(*info, {out.data(), static_cast<std::size_t>(out.size())});
    return out;
  }
  /// A tensor's values in storage order.
  [[nodiscard]] gift::vector<float> read_vector(std::string_view name) const {
    const auto [file, info] = tensor(name);
    gift::vector<float> out(static_cast<Eigen::Index>(info->element_count));
    file->read_into(*info, {out.data(), static_cast<std::size_t>(out.size())});
    return out;
  }

  /// The safetensors `__metadata__` of the (first) weights file.
  [[nodiscard]] const std::map<std::string, std::string>& weights_metadata() const { return shards_.front().metadata(); }

  /// The tokenizer of tokenizer.json (+ tokenizer_config.json); special ids that the tokenizer
  /// files do not name come from config.json's `bos_token_id`/`eos_token_id`/`pad_token_id`.
  [[nodiscard]] hf_tokenizer tokenizer() const {
    namespace fs = std::filesystem;
    const std::string where = "gift::io::hf_checkpoint::tokenizer: '" + folder_.string() + "'";
    std::error_code status;
    detail::require(fs::is_regular_file(folder_ / hf_file_names::tokenizer, status), where,
                    " has no tokenizer.json; gift reads the tokenizer from it (export the folder with gift export, or "
                    "save it with transformers' tokenizer.save_pretrained)");
    const std::string text = detail::read_text(folder_ / hf_file_names::tokenizer, where);
    std::string config;
    if (fs::is_regular_file(folder_ / hf_file_names::tokenizer_config, status))
      config = detail::read_text(folder_ / hf_file_names::tokenizer_config, where);
    special_token_ids fallback;
    const auto id_of = [&](const char* key) -> std::int32_t {
      const detail::json_value* value = config_value(key);
      if (value == nullptr || !value->is_unsigned_integer || value->unsigned_integer >= (std::uint64_t{1} << 31)) return -1;
      return static_cast<std::int32_t>(value->unsigned_integer);
    };
    fallback.bos = id_of("bos_token_id");
    fallback.eos = id_of("eos_token_id");
    fallback.pad = id_of("pad_token_id");
    return parse_hf_tokenizer(text, config, fallback, folder_.string());
  }

private:
  hf_checkpoint() = default;
  [[nodiscard]] std::string context() const { return "gift::io::hf_checkpoint: '" + folder_.string() + "': "; }

  std::filesystem::path folder_;
  std::string config_text_;
  detail::json_value config_;
  std::vector<safetensors_file> shards_;
  std::vector<std::string> shard_names_;
  std::map<std::string, std::size_t, std::less<>> where_;
};

/// Collects the files of a checkpoint folder and writes them: tensors into one
/// `model.safetensors`, or into shards of at most `max_shard_bytes` with an index; text files
/// (config.json, tokenizer files) as given. Every file is written atomically; config.json last,
/// so a reader never finds a config beside half of the weights.
class hf_checkpoint_writer {
public:
  /// Writes one weights file when 0, else shards of at most this many tensor bytes (a larger
  /// tensor gets a shard of its own).
  explicit hf_checkpoint_writer(std::uint64_t max_shard_bytes = 0) : max_shard_bytes_(max_shard_bytes) {}

  /// Sets a `__metadata__` entry of every weights file ("format": "pt" is always set).
  void set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }

  /// Adds float values in row-major order with `shape`, stored as `dtype` (F32, F16 or BF16).
  void add_values(std::string name, std::vector<std::uint64_t> shape, std::span<const float> values,
                  safetensors_dtype dtype = safetensors_dtype::f32) {
    for (std::size_t i = 0; i < values.size(); ++i)
      detail::require(std::isfinite(values[i]), "gift::io::hf_checkpoint_writer: tensor '", name, "' value ", i, " is ",
                      values[i], "; a checkpoint must hold finite numbers");
    tensor t{std::move(name), dtype, std::move(shape), {}, {}};
    t.values.assign(values.begin(), values.end());
    add(std::move(t));
  }
  /// Adds a matrix (any Eigen float expression) as [rows, cols].
  template <eigen_float_matrix Matrix>
  void add_matrix(std::string name, const Matrix& m, safetensors_dtype dtype = safetensors_dtype::f32) {
    std::vector<float> flat;
    flat.reserve(static_cast<std::size_t>(m.size()));
    for (Eigen::Index r = 0; r < m.rows(); ++r)
      for (Eigen::Index c = 0; c < m.cols(); ++c) flat.push_back(static_cast<float>(m(r, c)));
    add_values(std::move(name), {static_cast<std::uint64_t>(m.rows()), static_cast<std::uint64_t>(m.cols())}, flat, dtype);
  }
  /// Adds a vector as [size].
  template <eigen_float_matrix Vector>
  void add_vector(std::string name, const Vector& v, safetensors_dtype dtype = safetensors_dtype::f32) {
    std::vector<float> flat(static_cast<std::size_t>(v.size()));
    for (Eigen::Index i = 0; i < v.size(); ++i) flat[static_cast<std::size_t>(i)] = static_cast<float>(v.reshaped()(i));
    add_values(std::move(name), {static_cast<std::uint64_t>(v.size())}, flat, dtype);
  }
  /// Adds already-encoded little-endian bytes of any dtype.
  void add_raw(std::string name, safetensors_dtype dtype, std::vector<std::uint64_t> shape, std::vector<std::byte> bytes) {
    add(tensor{std::move(name), dtype, std::move(shape), {}, std::move(bytes)});
  }

  /// Adds (or replaces) a text file written beside the weights, e.g. "config.json".
  void add_text_file(std::string name, std::string text) {
    detail::require(!name.empty() && name.find('/') == std::string::npos, "gift::io::hf_checkpoint_writer: '", name,
                    "' is not a plain file name");
    detail::require(name != hf_file_names::weights && name != hf_file_names::index && !detail::is_shard_name(name),
                    "gift::io::hf_checkpoint_writer: '", name, "' is a weights file name; add tensors instead");
    text_files_[std::move(name)] = std::move(text);
  }

  /// Total bytes of the tensors added so far.
  [[nodiscard]] std::uint64_t tensor_bytes() const noexcept { return total_bytes_; }

  /// Writes the folder (created if missing). Weights files of the other layout left by an
  /// earlier write (shards when writing one file, or the reverse) are removed, so the folder
  /// describes exactly this checkpoint. Returns the weights files written.
  std::vector<std::string> write(const std::filesystem::path& folder) const {
    namespace fs = std::filesystem;
    detail::require(text_files_.count(hf_file_names::config) != 0,
                    "gift::io::hf_checkpoint_writer::write: no config.json was added; a checkpoint needs one");
    fs::create_directories(folder);
    // Shards: consecutive tensors while they fit.
    std::vector<std::vector<const tensor*>> shards(1);
    std::uint64_t shard_bytes = 0;
    for (const auto& t : tensors_) {
      const std::uint64_t size = byte_size(t);
      if (max_shard_bytes_ > 0 && !shards.back().empty() && shard_bytes + size > max_shard_bytes_) {
        shards.emplace_back();
        shard_bytes = 0;
      }
      shards.back().push_back(&t);
      shard_bytes += size;
    }
    detail::require(shards.size() < 100000, "gift::io::hf_checkpoint_writer::write: ", shards.size(),
                    " shards are too many; raise the shard size");
    const bool sharded = max_shard_bytes_ > 0 && shards.size() > 1;
    std::vector<std::string> names;
    std::string weight_map;
    for (std::size_t s = 0; s < shards.size(); ++s) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
      names.push_back(sharded ? std::string(name) : std::string(hf_file_names::weights));
      safetensors_writer writer;
      writer.set_metadata("format", "pt");
      for (const auto& [key, value] : metadata_) writer.set_metadata(key, value);
      for (const tensor* t : shards[s]) {
        if (!t->bytes.empty() || t->values.empty()) {
          writer.add_raw(t->name, t->dtype, t->shape, t->bytes);
        } else {
          writer.add_values(t->name, t->shape, t->values, t->dtype);
        }
        weight_map += (weight_map.empty() ? "\n    " : ",\n    ") + detail::json_quote(t->name) + ": " +
                      detail::json_quote(names.back());
      }
      writer.write(folder / names.back());
    }
    // Remove what an earlier write of the other layout left (the index first: it decides).
    std::error_code ignored;
    if (sharded) {
      const std::string index = "{\n  \"metadata\": {\"total_size\": " + std::to_string(total_bytes_) +
                                "},\n  \"weight_map\": {" + weight_map + "\n  }\n}\n";
      write_text(folder / hf_file_names::index, index);
      fs::remove(folder / hf_file_names::weights, ignored);
    } else {
      fs::remove(folder / hf_file_names::index, ignored);
    }
    for (fs::directory_iterator it(folder, ignored), end; !ignored && it != end; it.increment(ignored)) {
      const std::string name = it->path().filename().string();
      if (detail::is_shard_name(name) && (!sharded || std::find(names.begin(), names.end(), name) == names.end())) {
        std::error_code removed;
        fs::remove(it->path(), removed);
      }
    }
    for (const auto& [name, text] : text_files_)
      if (name != hf_file_names::config) write_text(folder / name, text);
    write_text(folder / hf_file_names::config, text_files_.at(hf_file_names::config));
    return names;
  }

private:
  struct tensor {
    std::string name;
    safetensors_dtype dtype;
    std::vector<std::uint64_t> shape;
    std::vector<float> values;   // encoded at write time (F32/F16/BF16)
    std::vector<std::byte> bytes;  // or already encoded
  };

  static std::uint64_t byte_size(const tensor& t) {
    std::uint64_t count = 1;
    for (const auto d : t.shape) count *= d;
    return count * size_of(t.dtype);
  }

  void add(tensor t) {
    const char* where = "gift::io::hf_checkpoint_writer";
    detail::require(!t.name.empty() && t.name != "__metadata__", where, ": tensor name '", t.name, "' is reserved or empty");
    detail::require(names_.emplace(t.name).second, where, ": tensor '", t.name, "' added twice");
    std::uint64_t count = 1;
    for (const auto d : t.shape) count *= d;
    if (t.bytes.empty() && !t.values.empty()) {
      detail::require(count == t.values.size(), where, ": tensor '", t.name, "' has ", t.values.size(),
                      " values, but its shape holds ", count);
      detail::require(t.dtype == safetensors_dtype::f32 || t.dtype == safetensors_dtype::f16 ||
                          t.dtype == safetensors_dtype::bf16,
                      where, ": tensor '", t.name, "': dtype ", name_of(t.dtype), " is not written from float (use F32, F16 or BF16)");
    } else {
      detail::require(count * size_of(t.dtype) == t.bytes.size(), where, ": tensor '", t.name, "' has ", t.bytes.size(),
                      " bytes, but ", count, " values of ", name_of(t.dtype), " need ", count * size_of(t.dtype));
    }
    total_bytes_ += byte_size(t);
    tensors_.push_back(std::move(t));
  }

  static void write_text(const std::filesystem::path& path, const std::string& text) {
    write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
  }

  std::uint64_t max_shard_bytes_ = 0;
  std::uint64_t total_bytes_ = 0;
  std::vector<tensor> tensors_;
  std::set<std::string> names_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, std::string> text_files_;
};

}  // namespace gift::io
