; Inno Setup 6 script for Hearth's Windows installer. It cannot be built on our Linux CI; on a
; Windows machine with Python 3.11+ and Inno Setup 6 (see README, "Building the installer"):
;
;   py -m pip install -e . -r installer\requirements-build.txt
;   py -m PyInstaller --noconfirm --distpath dist\windows installer\hearth.spec
;   dist\windows\hearth\hearth.exe --self-test
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 installer\hearth.iss
;
; -> dist\hearth-0.1.0-windows-x64.exe. Installs for the current user by default
; (%LOCALAPPDATA%\Programs\Hearth, no administrator rights); the installer's first page, or
; /ALLUSERS on the command line, installs for everyone under Program Files. Start-menu entry,
; optional desktop icon, and an uninstaller in Settings > Apps. Chats and models (in
; %APPDATA%\Hearth and the models folder) are kept on uninstall.
;
; The spec's Windows build uses installer\hearth.ico (made from resources\icons\hearth.svg,
; e.g. with ImageMagick: magick -background none hearth.svg -define icon:auto-resize hearth.ico).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6E0C7B52-4C1B-4E0B-9B3D-8F1E5D1A7C44}
AppName=Hearth
AppVersion={#AppVersion}
AppPublisher=Hearth
AppComments=Chat with gpt-oss on your own computer, fully offline.
DefaultDirName={autopf}\Hearth
DefaultGroupName=Hearth
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
LicenseFile=..\LICENSE
OutputDir=..\dist
OutputBaseFilename=hearth-{#AppVersion}-windows-x64
SetupIconFile=hearth.ico
UninstallDisplayIcon={app}\hearth.exe
Compression=lzma2/fast
SolidCompression=no
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\dist\windows\hearth\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Hearth"; Filename: "{app}\hearth.exe"
Name: "{autodesktop}\Hearth"; Filename: "{app}\hearth.exe"; Tasks: desktopicon

[Run]
; Every install is checked once before it is offered to the user; then Hearth may be started.
Filename: "{app}\hearth.exe"; Parameters: "--self-test"; StatusMsg: "Checking the installation..."; Flags: runhidden waituntilterminated
Filename: "{app}\hearth.exe"; Description: "{cm:LaunchProgram,Hearth}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Files Hearth itself may leave in its program folder (Python caches); user data lives elsewhere.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
