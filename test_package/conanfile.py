"""Conan Center style test_package: builds and runs a tiny consumer of the gift package through
CMakeDeps, with gift::thrust and gift::cuda when the package's options enable them."""
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout


class GiftTestConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "VirtualRunEnv"
    test_type = "explicit"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        gift = self.dependencies["gift"]
        toolchain = CMakeToolchain(self)
        if gift.options.with_cuda:
            # The cppstd block sets CMAKE_CXX_STANDARD=20; a CUDA target without CUDA_STANDARD
            # borrows it, and CMake 3.25 knows no CUDA 20 dialect, so enable_language(CUDA)
            # fails. gift::gift carries cxx_std_20 and gift::cuda nvcc's -std=c++20 instead.
            toolchain.blocks.remove("cppstd")
        # The version the recipe read from version.hpp; the consumer checks the header agrees.
        toolchain.cache_variables["GIFT_EXPECTED_VERSION"] = str(gift.ref.version)
        toolchain.cache_variables["GIFT_TEST_THRUST"] = bool(gift.options.with_thrust)
        toolchain.cache_variables["GIFT_TEST_CUDA"] = bool(gift.options.with_cuda)
        toolchain.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if not can_run(self):
            return
        gift = self.dependencies["gift"]
        programs = ["test_package"]
        if gift.options.with_thrust:
            programs.append("test_package_thrust")
        if gift.options.with_cuda:
            programs.append("test_package_cuda")
        for program in programs:
            self.run(os.path.join(self.cpp.build.bindir, program), env="conanrun")
