#pragma once
/// \file gift/io/training_checkpoint.hpp
/// \brief gift's training checkpoint: a safetensors file holding the model's linear weights (as
/// any weights file), the optimizer state of every trainable block, the step reached, and the
/// settings and inputs of the run — what `gift finetune --resume` needs to continue the run bit
/// for bit, and what it compares so that a changed run is refused instead of silently continued.
///
/// Besides the weights the file holds, for trainable block b (in the trainer's order), AdamW's
/// moments as the 1-D F32 tensors `gift.state.<b>.m` and `gift.state.<b>.v`, and these
/// `__metadata__` entries:
/// - `gift.step`: the number of steps taken; `gift.state.count`: the number of blocks;
///   `gift.shards`: the data-parallel shards of the run (absent: 1);
/// - the run's **settings** (`gift.lr`, `gift.seed`, ...: every option that decides a bit of the
///   trajectory), which a resume must repeat exactly;
/// - the run's **inputs** by fingerprint (`gift.base_fingerprint`, `gift.salient_fingerprint`),
///   compared when present (checkpoints of earlier versions lack them).
///
/// Reading validates before it allocates: counts are parsed strictly, the block count is compared
/// with the caller's before anything is sized by it, and each moment's declared size is compared
/// with its block's before it is read.

#include <gift/error.hpp>
#include <gift/io/safetensors.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gift::io {

/// Tensor-name prefix of the optimizer state in a training checkpoint.
inline constexpr const char* training_state_prefix = "gift.state.";

/// The name of block `block`'s first (`.m`) or second (`.v`) moment.
[[nodiscard]] inline std::string training_moment_name(std::size_t block, bool second) {
  return training_state_prefix + std::to_string(block) + (second ? ".v" : ".m");
}

/// An input a run trains from, by content, and what a different one means (for the message).
struct training_input {
  std::string fingerprint;  ///< e.g. the hex of a 64-bit fingerprint
  std::string differs;      ///< e.g. "another model (its embedding, norms or head differ from --model's)"
};

/// What identifies a training run: the settings a resume must repeat and the inputs it must read.
struct training_run {
  std::map<std::string, std::string> settings;  ///< `gift.<name>` → canonical value
  std::map<std::string, training_input> inputs; ///< `gift.<name>_fingerprint` → the input
};

/// AdamW's moments of one trainable block.
struct training_moments {
  std::vector<float> first;   ///< m
  std::vector<float> second;  ///< v
};

/// The `__metadata__` of a checkpoint of `run` after `step` steps, with `blocks` trainable blocks
/// and `shards` data-parallel shards; a writer adds the weights and `training_moment_name` tensors.
[[nodiscard]] inline std::map<std::string, std::string> training_checkpoint_metadata(const training_run& run,
                                                                                    std::int64_t step,
                                                                                    std::size_t blocks,
                                                                                    std::int64_t shards) {
  std::map<std::string, std::string> metadata = run.settings;
  for (const auto& [key, input] : run.inputs) metadata[key] = input.fingerprint;
  metadata["gift.step"] = std::to_string(step);
  metadata["gift.state.count"] = std::to_string(blocks);
  metadata["gift.shards"] = std::to_string(shards);
  return metadata;
}

/// A training checkpoint opened for resuming, its metadata validated. Move-only (it maps the file).
class training_checkpoint {
public:
  /// Opens `path`; `what` begins every message (e.g. "gift finetune: --resume").
  /// \throws gift::error when the file is not a safetensors file, lacks `gift.step` or
  /// `gift.state.count`, or holds a value there (or in `gift.shards`) that is not a count.
  [[nodiscard]] static training_checkpoint open(const std::filesystem::path& path, const std::string& what) {
    return from_file(safetensors_file::open(path), what + " '" + path.string() + "'");
  }

  /// As `open`, for a safetensors file already parsed; `where` names it in every message.
  [[nodiscard]] static training_checkpoint from_file(safetensors_file file, const std::string& where) {
    training_checkpoint checkpoint(std::move(file), where);
    const auto& metadata = checkpoint.file_.metadata();
    detail::require(metadata.count("gift.state.count") != 0 && metadata.count("gift.step") != 0, where,
                    " is not a training checkpoint with optimizer state (gift.step and gift.state.count are "
                    "missing; gift finetune --out of this version writes them)");
    checkpoint.step_ = checkpoint.count("gift.step");
    checkpoint.blocks_ = checkpoint.count("gift.state.count");
    // Checkpoints without the key come from unsharded runs.
    checkpoint.shards_ = metadata.count("gift.shards") != 0 ? checkpoint.count("gift.shards") : 1;
    return checkpoint;
  }

  /// The file (its weights are read like any weights file's).
  [[nodiscard]] const safetensors_file& file() const noexcept { return file_; }
  /// Steps taken when it was written.
  [[nodiscard]] std::int64_t step() const noexcept { return step_; }
  /// Trainable blocks it holds moments for, as its metadata says (compare before sizing by it).
  [[nodiscard]] std::int64_t blocks() const noexcept { return blocks_; }
  /// Data-parallel shards of the run that wrote it.
  [[nodiscard]] std::int64_t shards() const noexcept { return shards_; }
  /// The metadata value of `key`, or "(none)".
  [[nodiscard]] std::string value(const std::string& key) const {
    const auto it = file_.metadata().find(key);
    return it == file_.metadata().end() ? std::string("(none)") : it->second;
  }

  /// Refuses a resume that is not the same run: a setting that differs (naming it and both
  /// values), an input whose fingerprint the checkpoint records and that differs, another shard
  /// count, or a step beyond `steps`.
  void require_same_run(const training_run& run, std::int64_t shards, std::int64_t steps) const {
    for (const auto& [key, wanted] : run.settings)
      detail::require(value(key) == wanted, where_, " was written with ", key.rfind("gift.", 0) == 0 ? key.substr(5) : key,
                      " = ", value(key), ", but this run has ", wanted, "; resume with the options of the original run");
    for (const auto& [key, input] : run.inputs) {
      const auto it = file_.metadata().find(key);
      detail::require(it == file_.metadata().end() || it->second == input.fingerprint, where_, " was written from ",
                      input.differs, "; resume with the inputs of the original run");
    }
    detail::require(shards_ == shards, where_, " was written with ", shards_, " shard(s), but this run has ", shards,
                    "; resume with the same --shards (or as many MPI ranks)");
    detail::require(step_ <= steps, where_, " is at step ", step_, ", outside [0, ", steps, "]");
  }

  /// Refuses a checkpoint whose block count differs from the run's `blocks`.
  void require_blocks(std::size_t blocks) const {
    detail::require(static_cast<std::uint64_t>(blocks_) == blocks, where_, " says gift.state.count = ", blocks_,
                    ", but this run trains ", blocks, " parameter blocks; the checkpoint is damaged or from another "
                    "run (resume with the options of the original run)");
  }

  /// Reads block `block`'s moments. Their declared sizes are compared before reading: with
  /// `expected` values when it is given, else with each other.
  /// \throws gift::error when a moment is missing, or the sizes differ.
  [[nodiscard]] training_moments read_moments(std::size_t block, std::optional<std::uint64_t> expected = {}) const {
    const auto* first = file_.find_tensor(training_moment_name(block, false));
    const auto* second = file_.find_tensor(training_moment_name(block, true));
    detail::require(first != nullptr && second != nullptr, where_, " lacks the optimizer state of block ", block, " (",
                    training_moment_name(block, false), "/.v); the checkpoint is damaged");
    const std::uint64_t size = expected.value_or(first->element_count);
    detail::require(first->element_count == size && second->element_count == size, where_,
                    ": the optimizer state of block ", block, " holds ", first->element_count, " and ",
                    second->element_count, " values, but the block has ", size,
                    "; the checkpoint is damaged or from another run");
    training_moments moments;
    moments.first.resize(static_cast<std::size_t>(size));
    moments.second.resize(static_cast<std::size_t>(size));
    file_.read_into(*first, moments.first);
    file_.read_into(*second, moments.second);
    return moments;
  }

private:
  training_checkpoint(safetensors_file file, std::string where) : file_(std::move(file)), where_(std::move(where)) {}

  /// The metadata value of `key` as a non-negative count.
  [[nodiscard]] std::int64_t count(const char* key) const {
    const std::string text = value(key);
    std::size_t used = 0;
    long long parsed = -1;
    try {
      parsed = std::stoll(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    detail::require(!text.empty() && used == text.size() && parsed >= 0, where_, " metadata ", key, " = '", text,
                    "' is not a count; the checkpoint is corrupt");
    return parsed;
  }

  safetensors_file file_;
  std::string where_;
  std::int64_t step_ = 0, blocks_ = 0, shards_ = 1;
};

}  // namespace gift::io
