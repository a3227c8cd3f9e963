#pragma once
/// \file backend/thrust.hpp
/// \brief Everything gift implements on the Thrust backend. Link gift::thrust (host OMP/CPP
/// systems) or gift::cuda (nvcc, CUDA system).

#include <gift/backend/thrust/column_norms.hpp>
#include <gift/backend/thrust/fill_standard_normal.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/noise.hpp>
#include <gift/backend/thrust/system.hpp>
