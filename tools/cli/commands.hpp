#pragma once
// The subcommands of the gift tool; each parses its own options and returns an exit status.
namespace gift::cli {
int run_calibrate(int argc, char** argv);
int run_select(int argc, char** argv);
int run_quantize(int argc, char** argv);
int run_finetune(int argc, char** argv);
int run_eval(int argc, char** argv);
int run_compare(int argc, char** argv);
int run_generate(int argc, char** argv);
int run_sweep(int argc, char** argv);
int run_export(int argc, char** argv);
}  // namespace gift::cli
