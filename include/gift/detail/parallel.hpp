#pragma once
/// \file gift/detail/parallel.hpp
/// \brief `GIFT_MODEL_PARALLEL_FOR`: an OpenMP loop pragma that vanishes without OpenMP (so
/// `-Wunknown-pragmas` stays quiet in builds without it).

#if defined(_OPENMP)
#include <omp.h>
#define GIFT_MODEL_PARALLEL_FOR _Pragma("omp parallel for schedule(static)")
#define GIFT_MODEL_PARALLEL_FOR_DYNAMIC _Pragma("omp parallel for schedule(dynamic, 1)")
#else
#define GIFT_MODEL_PARALLEL_FOR
#define GIFT_MODEL_PARALLEL_FOR_DYNAMIC
#endif
