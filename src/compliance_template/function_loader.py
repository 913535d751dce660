"""A packaged function's code imported from its folder, as Lambda imports it: for the function
tests, the benchmarks and the local deploy cycle.

A function folder is a Lambda code root: its modules are top level (app, settings, aws, ...),
so the folder goes on sys.path and `app.py` is executed as a module.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from .paths import FUNCTIONS_DIR


def import_app(folder: Path, module_name: str) -> ModuleType:
    """`folder/app.py` as the module `module_name`, with the folder on sys.path for the imports
    app makes. The module stays in sys.modules, so loading it again returns the same module."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(module_name, folder / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no app.py in {folder}")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: dataclasses look their module up while the class is built.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


@contextlib.contextmanager
def function_module(folder: Path) -> Iterator[ModuleType]:
    """`app` imported from one function folder, in a fresh module namespace.

    The three folders share module names (app, settings, aws, ...), and the remediation function
    has a `rules` package: every module loaded from functions/ is dropped from sys.modules before
    the import, and after the block those loaded before it are put back (the function tests hold
    theirs; a copy left from here would not be the one they patch). sys.path is restored. So are
    the loggers: the functions share the logger `compliance`, and each import of a folder defines
    its handler class anew, so a handler left by an earlier folder would not be recognised as the
    same and every line would be printed once more per function run before.
    """
    saved_modules = _function_modules()
    saved_path, saved_bytecode = list(sys.path), sys.dont_write_bytecode
    saved_loggers = _logging_state()
    _forget_function_modules()
    sys.path.insert(0, str(folder))
    sys.dont_write_bytecode = True  # leave no __pycache__ in the function's folder
    try:
        yield import_app(folder, "app")
    finally:
        _forget_function_modules()
        sys.modules.update(saved_modules)
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        _restore_logging(saved_loggers)


def _function_modules() -> dict[str, ModuleType]:
    """The modules in sys.modules loaded from a file under functions/."""
    return {
        name: module
        for name, module in list(sys.modules.items())
        if isinstance(getattr(module, "__file__", None), str)
        and Path(module.__file__).is_relative_to(FUNCTIONS_DIR)
    }


def _forget_function_modules() -> None:
    for name in _function_modules():
        sys.modules.pop(name, None)


_LoggerState = tuple[list[logging.Handler], bool, int]


def _loggers() -> list[logging.Logger]:
    known = logging.Logger.manager.loggerDict.values()
    return [logging.getLogger(), *(lg for lg in known if isinstance(lg, logging.Logger))]


def _logging_state() -> dict[logging.Logger, _LoggerState]:
    return {lg: (list(lg.handlers), lg.propagate, lg.level) for lg in _loggers()}


def _restore_logging(saved: dict[logging.Logger, _LoggerState]) -> None:
    """Handlers, propagation and level as saved; loggers created since lose their handlers."""
    for logger in _loggers():
        handlers, propagate, level = saved.get(logger, ([], True, logging.NOTSET))
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.setLevel(level)
