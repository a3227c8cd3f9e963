#pragma once
// `gift finetune --method`: the library's methods (gift/pipeline/methods.hpp) under the names the
// command's options and messages use.
#include <gift/error.hpp>
#include <gift/pipeline/methods.hpp>

#include <string>

namespace gift::cli {

using pipeline::finetune_method;
using pipeline::layer_inputs;
using pipeline::layer_totals;
using pipeline::method_settings;
using pipeline::trains_adapter;
using pipeline::uses_adapter;
using pipeline::uses_salient;

/// The spellings of `--method`, for --help and messages.
inline constexpr const char* finetune_method_names = "gift_sw | lora | dora | full | ste | quik_lora | svft | npft";

/// Parses `--method`; the message lists the choices.
inline finetune_method parse_finetune_method(const std::string& text) {
  if (const auto method = pipeline::finetune_method_named(text)) return *method;
  throw error("gift finetune: --method must be one of " + std::string(finetune_method_names) + ", but is '" + text + "'");
}

/// --match-params: the LoRA/DoRA rank whose trainable count is nearest GIFT-SW's.
inline int match_params_rank(finetune_method method, const layer_totals& totals) {
  gift::require(totals.salient_weights > 0, "gift finetune: --match-params needs salient columns to match, ",
                "but the --salient file selects none");
  return pipeline::matching_rank(method, totals);
}

}  // namespace gift::cli
