// gift export: the model gift holds (the --model, with --weights from quantize/finetune merged
// in) written as a Hugging Face checkpoint folder, a GGUF file, or gift's packed mixed-precision
// layout (bit-packed codes, per-row steps, salient columns kept) that gift eval/generate run.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"

#include <gift/io/gguf_dequant.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/io/salient_file.hpp>
#include <gift/model/hf_checkpoint.hpp>
#include <gift/model/open_model.hpp>
#include <gift/model/packed_linear.hpp>
#include <gift/model/save_gguf.hpp>
#include <gift/pipeline/quantize_model.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gift::cli {

namespace {

/// The safetensors dtype named by --dtype / --salient-dtype for a folder format.
io::safetensors_dtype folder_dtype(const std::string& text, const std::string& option, bool allow_bf16) {
  if (text == "f32") return io::safetensors_dtype::f32;
  if (text == "f16") return io::safetensors_dtype::f16;
  if (text == "bf16" && allow_bf16) return io::safetensors_dtype::bf16;
  throw gift::error("gift export: " + option + " must be f32, f16" + (allow_bf16 ? ", bf16" : "") + " for this format, but is '" +
                    text + "'");
}

/// Bytes of the regular files in `path` (a file, or a folder's files).
std::uint64_t bytes_on_disk(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(path)) return fs::file_size(path);
  std::uint64_t total = 0;
  for (const auto& entry : fs::directory_iterator(path))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

/// Packs every linear layer of `model`: with the steps the --weights file holds (the output of
/// gift quantize or finetune), or quantizing now (round-to-nearest, --alpha) when it holds none.
/// Returns how the steps were obtained.
std::string pack_model(model::llama_model<float>& model, const arguments& args, int bits) {
  const io::salient_selection selection =
      args.get("salient").empty() ? io::salient_selection{} : io::read_salient_file(args.get("salient"));
  std::optional<io::safetensors_file> weights;
  if (!args.get("weights").empty()) weights.emplace(io::safetensors_file::open(args.get("weights")));
  const bool file_steps = weights && weights->find_tensor(layer_name(0, model::projection::q) + ".delta") != nullptr;
  // Packing again per row would silently re-quantize a group-wise model on a coarser grid.
  gift::require(!weights || weights->find_tensor(layer_name(0, model::projection::q) + ".group_delta") == nullptr,
                "gift export: '", args.get("weights"), "' is quantized with scale groups (gift quantize ",
                "--group-size), but the packed format holds one step per row; export it as --format hf or ",
                "gguf (fp32 weights), or quantize without --group-size to pack it");
  const alpha_search search = parse_alpha(args.get("alpha"), "--alpha");
  const auto salient_for = [&](int b, model::projection p, Eigen::Index columns) {
    if (selection.empty()) return salient_columns::none(static_cast<std::size_t>(columns));
    return io::salient_of(selection, layer_name(b, p));
  };
  progress_bar bar("pack", model.config().layers * model::projections_per_block, "layer");
  model::pack_linear_layers(model, bits, [&](int b, model::projection p) {
    const std::string name = layer_name(b, p);
    const matrix<float> w = model.linear(b, p).effective_weight();
    model::packing_plan plan{{}, salient_for(b, p, w.cols())};
    if (file_steps) {
      gift::require(weights->find_tensor(name + ".delta") != nullptr, "gift export: '", args.get("weights"),
                    "' holds steps for some layers but not for ", name, "; write it again with gift quantize");
      plan.delta = weights->read_vector(name + ".delta");
    } else {
      // No steps in a file: quantize now, and put the mixed-precision weight in place so that
      // the packed layer holds exactly it.
      pipeline::quantized_layer q = pipeline::quantize_layer(w, plan.salient, {pipeline::quantize_method::rtn, bits, search, 0});
      model.replace_linear(b, p, std::make_unique<model::frozen_linear<float>>(std::move(q.weight)));
      plan.delta = std::move(q.steps);
    }
    bar.advance();
    return plan;
  });
  bar.finish();
  return file_steps ? "from --weights (" + args.get("weights") + ")" : "quantized now (rtn, --alpha " + args.get("alpha") + ")";
}

/// The command's options (model_options plus the export's own).
void declare_export_options(arguments& args) {
  model_options(args);
  args.option("format", "", "hf | gguf | packed", true)
      .option("out", "", "output: a folder for hf and packed, a .gguf file for gguf", true)
      .option("dtype", "f32", "tensor type: hf f32|f16|bf16; gguf f32|f16|bf16|q8_0; packed: the dense tensors "
                              "(embedding, norms) f32|f16|bf16")
      .integer_option("max-shard-size", "0", "hf/packed: split the weights into shards of at most this many MiB "
                                             "(0: one model.safetensors); as in transformers, a single tensor larger "
                                             "than the limit sits alone in a shard above it", 0, 1 << 20)
      .option("salient", "", "packed: salient-column file from gift select (columns kept in full precision; "
                             "default: none)")
      .integer_option("bits", "0", "packed: bit-width of the codes (0: the --weights file's gift.bits, else 4)", 0, 8)
      .option("alpha", "grid100", "packed, when --weights holds no steps: scale search of the quantization done "
                                  "now: max | grid<N> | ref80")
      .option("salient-dtype", "f16", "packed: type of the salient columns' values: f16 | f32")
      .result_options();
}

/// What the options ask for, checked before anything is read or written: the format, the tensor
/// type and the folder options (shards, salient type).
struct export_request {
  std::string format, dtype;
  io::ggml_type gguf_type = io::ggml_type::f32;
  model::hf_save_options options;
};

export_request read_export_request(const arguments& args) {
  export_request r;
  const std::string& format = r.format = args.get("format");
  gift::require(format == "hf" || format == "gguf" || format == "packed",
                "gift export: --format must be hf, gguf or packed, but is '", format, "'");
  const std::string& dtype = r.dtype = args.get("dtype");
  model::hf_save_options& options = r.options;
  options.max_shard_bytes = static_cast<std::uint64_t>(args.integer("max-shard-size")) << 20;
  if (format == "gguf") {
    const std::map<std::string, io::ggml_type> types{
        {"f32", io::ggml_type::f32}, {"f16", io::ggml_type::f16}, {"bf16", io::ggml_type::bf16}, {"q8_0", io::ggml_type::q8_0}};
    gift::require(types.count(dtype) != 0, "gift export: --dtype must be f32, f16, bf16 or q8_0 for --format gguf, "
                                                   "but is '", dtype, "'");
    r.gguf_type = types.at(dtype);
    gift::require(!args.given("max-shard-size"), "gift export: --max-shard-size applies to --format hf and packed; "
                                                         "a GGUF export is one file");
  } else {
    options.dtype = folder_dtype(dtype, "--dtype", true);
  }
  if (format != "packed") {
    for (const char* option : {"salient", "bits", "alpha", "salient-dtype"})
      gift::require(!args.given(option), "gift export: --", option, " applies to --format packed only");
  } else {
    options.salient_dtype = folder_dtype(args.get("salient-dtype"), "--salient-dtype", false);
    gift::require(args.integer("bits") == 0 || args.integer("bits") >= 2,
                  "gift export: --bits must be in [2, 8] (or 0: from --weights), but is ", args.integer("bits"));
    (void)parse_alpha(args.get("alpha"), "--alpha");
  }
  return r;
}

/// The packed export's bit-width: --bits, else the --weights file's gift.bits (the two must agree
/// when both are given), else 4.
int packed_bits_of(const arguments& args) {
  int bits = static_cast<int>(args.integer("bits"));
  if (!args.get("weights").empty()) {
    const auto metadata = io::safetensors_file::open(args.get("weights")).metadata();
    if (const auto it = metadata.find("gift.bits"); it != metadata.end()) {
      const int file_bits = std::stoi(it->second);
      gift::require(bits == 0 || bits == file_bits, "gift export: --bits ", bits, " differs from the ",
                    file_bits, " bits '", args.get("weights"), "' was quantized to; drop --bits or pass ",
                    file_bits);
      bits = file_bits;
    }
  }
  return bits == 0 ? 4 : bits;
}
}  // namespace

int run_export(int argc, char** argv) {
  arguments args("export",
                 "Writes the model (--model with --weights merged: original, quantized, fine-tuned with any method) as "
                 "a Hugging Face checkpoint folder (transformers loads it), a GGUF file (llama.cpp loads it), or gift's "
                 "packed mixed-precision folder (bit-packed codes, per-row steps, full-precision salient columns; gift "
                 "eval/generate --model run it). Files are written atomically.");
  declare_export_options(args);
  if (!args.parse(argc, argv, 2)) return 0;
  const export_request request = read_export_request(args);
  const std::string& format = request.format;
  const std::filesystem::path out = args.get("out");
  // A folder this export creates is removed again if the export fails (a full disk, a bad
  // --weights): no empty or half-filled folder is left that looks like a result.
  bool created_folder = false;
  struct remove_on_failure {
    const std::filesystem::path& folder;
    const bool& created;
    bool succeeded = false;
    ~remove_on_failure() {
      std::error_code ignored;
      if (created && !succeeded) std::filesystem::remove_all(folder, ignored);
    }
  } cleanup{out, created_folder};
  if (format == "gguf") {
    require_writable_file(out, "--out");
  } else {
    std::error_code status;
    gift::require(!std::filesystem::is_regular_file(out, status), "gift export: --out '", out.string(),
                  "' is a file; --format ", format, " writes a folder");
    created_folder = !std::filesystem::exists(out, status);
    require_writable_folder(out, "--out");
  }
  if (const std::string json = args.get("output-json"); !json.empty()) require_writable_file(json, "--output-json");
  // One writer per target: a second export into the same place is refused, not interleaved.
  const auto out_lock = io::output_lock::acquire(out, "gift export: --out");
  const std::filesystem::path source = model_path(args);
  {
    std::error_code status;
    gift::require(!std::filesystem::equivalent(source, out, status), "gift export: --out '", out.string(),
                  "' is the --model itself; write the export somewhere else");
  }
  set_threads(args);
  const auto start = std::chrono::steady_clock::now();
  auto model = load_model(args);
  const io::tokenizer tokenizer = model::open_tokenizer(source);
  const model::model_card card = model::open_model_card(source);
  report result("export");
  result.add("format", format).add("source", source.string() + (args.get("weights").empty() ? "" : " + " + args.get("weights")));
  if (format == "hf") {
    model::save_hf(model, tokenizer, card, out, request.options);
  } else if (format == "gguf") {
    model::save_gguf(model, tokenizer, card, out, request.gguf_type);
  } else {
    const int bits = packed_bits_of(args);
    result.add("bits", static_cast<std::int64_t>(bits)).add("steps", pack_model(model, args, bits));
    model::save_packed(model, tokenizer, card, out, request.options);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.add("dtype", request.dtype)
      .add("out", out.string())
      .add("bytes", static_cast<std::int64_t>(bytes_on_disk(out)))
      .add("seconds", seconds);
  cleanup.succeeded = true;
  result.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
