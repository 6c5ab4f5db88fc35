"""What every page shares: the app's extensions, security headers, errors, assets,
navigation, sign-in and health.
"""
