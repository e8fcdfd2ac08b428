"""What the tests share: builders of the objects they feed the code, and real servers.

Test modules and conftest.py files import from here, never from each other; fixtures
live in conftest.py files (the shared ones in tests/conftest.py). docs/development.md
("Tests") says what each module offers.
"""
