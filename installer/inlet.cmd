@echo off
rem The `inlet` command on the system PATH (the installer adds this folder to it). The bundled node.exe runs
rem the installed application, which finds the installed configuration (%ProgramData%\Inlet\inlet.config.json)
rem without --config, from any folder.
"%~dp0node.exe" "%~dp0app\dist\cli\inlet.js" %*
exit /b %ERRORLEVEL%
