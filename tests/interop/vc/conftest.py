from tests.web.conftest import certified  # noqa: F401 - the certified trainee fixture
