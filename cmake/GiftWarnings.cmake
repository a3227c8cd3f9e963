# Warning flags for gift's own targets (tests, examples, benchmarks, tools) — never pushed onto
# consumers through gift::gift.
add_library(gift_warnings INTERFACE)
target_compile_options(gift_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GIFT_WARNINGS_AS_ERRORS}>>:-Werror>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${GIFT_WARNINGS_AS_ERRORS}>>:-Werror=all-warnings>)
